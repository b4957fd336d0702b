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

TEST_CASE("pattern_syntax__chunk_safety_edge_syntax__then_judged_by_what_is_seen") {
  CHECK(chunk_safe_regex("ab\\"));       // a trailing backslash escapes nothing
  CHECK(chunk_safe_regex("a("));         // nor does a trailing parenthesis open anything
  CHECK(chunk_safe_regex("\\$(?-i)a"));  // an escaped $ is no anchor
  CHECK_FALSE(chunk_safe_regex("(?=x)a"));
  CHECK_FALSE(chunk_safe_regex("a(?<=x)"));
  CHECK_FALSE(chunk_safe_regex("(?^i)a"));  // (?^ resets every option (and its ^ counts as an anchor)
  CHECK_FALSE(chunk_safe_regex("$(?-i"));    // options up to the end of the text
  CHECK(chunk_safe_regex("(?J)^a"));         // upper-case options reset nothing
  CHECK(chunk_safe_regex("(?i:a)$"));        // the options end at ':'
  CHECK(chunk_safe_regex("^a(?i"));          // options without a close, no reset
  CHECK(chunk_safe_regex("(?i_-)^a"));       // options end at any other byte: '_' (between Z and a)...
  CHECK(chunk_safe_regex("(?i~-)^a"));       // ... or '~' (after z)
}

TEST_CASE("pattern_syntax__alternation_safety_edge_syntax__then_judged_by_what_is_seen") {
  CHECK(alternation_safe_regex("ab\\"));
  CHECK(alternation_safe_regex("a("));
  CHECK(alternation_safe_regex("\\d+\\s"));  // escapes that refer to nothing
  CHECK(alternation_safe_regex("\\.\\("));
  CHECK_FALSE(alternation_safe_regex("a(?"));
  for (const char* ok : {"(?:a)", "(?=a)", "(?!a)", "(?>a)", "(?|a|b)", "(?#c)a", "(?<=a)b", "(?<!a)b"}) {
    INFO(ok);
    CHECK(alternation_safe_regex(ok));
  }
  for (const char* refused : {"(?<", "(?<n>a)", "(?'n'a)", "(?P<n>a)", "(?R)", "(?&n)", "(?C1)a", "(?+1)", "(?1)",
                              "\\g1", "\\k<n>", "\\Ea", "\\Ka", "\\Ga", "\\9"}) {
    INFO(refused);
    CHECK_FALSE(alternation_safe_regex(refused));
  }
  // Inline options: anything but x and a relative call (?-digit).
  CHECK_FALSE(alternation_safe_regex("(?i-x)a"));
  CHECK(alternation_safe_regex("(?i-)a"));   // '-' before ')'
  CHECK(alternation_safe_regex("(?-i)a"));   // '-' before a letter
  CHECK(alternation_safe_regex("(?i-"));     // '-' at the end
  CHECK(alternation_safe_regex("(?^i)a"));
  CHECK(alternation_safe_regex("(?J)a"));
  CHECK(alternation_safe_regex("a(?i"));     // options up to the end of the text
  CHECK(alternation_safe_regex("(?i~x)a"));  // options end at any other byte, here '~' (after z)
}
