// The pure helpers behind the fast paths (internal header, no engine).
#include "pattern_syntax.hpp"

#include <catch2/catch.hpp>

using namespace preroll::daemon::matching_detail;

TEST_CASE("pattern_syntax__hyperscan_literal__then_every_non_alnum_byte_escaped") {
  using namespace std::string_literals;
  CHECK(hyperscan_literal("ab9") == "ab9");
  CHECK(hyperscan_literal("a.b\\") == "a\\x2eb\\x5c");
  CHECK(hyperscan_literal("\0\xff"s) == "\\x00\\xff");
}

TEST_CASE("pattern_syntax__pcre2_literal__then_every_non_alnum_byte_escaped") {
  using namespace std::string_literals;
  CHECK(pcre2_literal("a(b") == "a\\x{28}b");
  CHECK(pcre2_literal("\0"s) == "\\x{00}");
}

TEST_CASE("pattern_syntax__chunk_safety__then_only_what_looks_outside_the_match_is_refused") {
  CHECK(chunk_safe_regex("timeout after \\d+ms"));
  CHECK(chunk_safe_regex("^panic: .*$"));  // multiline mode only relaxes ^ and $
  CHECK(chunk_safe_regex("\\bword\\b"));   // '\\n' is not a word byte
  CHECK(chunk_safe_regex("(?i)abc"));
  CHECK_FALSE(chunk_safe_regex("\\Aboot"));
  CHECK_FALSE(chunk_safe_regex("done\\z"));
  CHECK_FALSE(chunk_safe_regex("done\\Z"));
  CHECK_FALSE(chunk_safe_regex("\\Gx"));
  CHECK_FALSE(chunk_safe_regex("end(?!\\s)"));
  CHECK_FALSE(chunk_safe_regex("(?<!x)start"));
  CHECK_FALSE(chunk_safe_regex("(*CR)a"));
  CHECK_FALSE(chunk_safe_regex("(?(1)a|b)"));
  CHECK_FALSE(chunk_safe_regex("(?m-m)^a"));  // an option reset next to ^
  CHECK(chunk_safe_regex("(?-i)a"));           // a reset without ^ or $ is harmless
}

TEST_CASE("pattern_syntax__alternation_safety__then_group_references_and_modes_refused") {
  CHECK(alternation_safe_regex("a(b|c)+d"));
  CHECK(alternation_safe_regex("(?i)x(?=y)(?<=w)z(?>q)"));
  CHECK_FALSE(alternation_safe_regex("(a)\\1"));
  CHECK_FALSE(alternation_safe_regex("(?<n>a)\\k<n>"));
  CHECK_FALSE(alternation_safe_regex("(a)\\g{-1}"));
  CHECK_FALSE(alternation_safe_regex("(?x) a # b"));
  CHECK_FALSE(alternation_safe_regex("\\Qa)"));
  CHECK_FALSE(alternation_safe_regex("a(*ACCEPT)"));
  CHECK_FALSE(alternation_safe_regex("(a(?R)?b)"));
  CHECK_FALSE(alternation_safe_regex("(a)(?1)"));
  CHECK_FALSE(alternation_safe_regex("(a)(?-1)"));
  CHECK_FALSE(alternation_safe_regex("(?(1)a|b)"));
}
