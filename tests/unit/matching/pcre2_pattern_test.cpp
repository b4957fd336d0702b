// Pcre2Pattern, the exact matcher behind both engines (internal header):
// what an empty pattern and a case-sensitive literal are.
#include "pcre2_pattern.hpp"

#include <catch2/catch.hpp>

#include <string>

using preroll::daemon::matching_detail::Pcre2CompileError;
using preroll::daemon::matching_detail::Pcre2Pattern;
using preroll::daemon::matching_detail::Pcre2Scratch;

TEST_CASE("pcre2_pattern__default_constructed__then_invalid_and_matches_nothing_without_error") {
  const Pcre2Pattern none;
  Pcre2Scratch scratch(1000);
  CHECK_FALSE(none.valid());
  CHECK(none.test("anything", scratch) == Pcre2Pattern::Answer::no);
  CHECK(none.test("", scratch) == Pcre2Pattern::Answer::no);
  CHECK_FALSE(none.matches("anything", scratch));
  CHECK(scratch.errors == 0);
}

TEST_CASE("pcre2_pattern__literal_and_regex__then_valid_whichever_way_they_match") {
  Pcre2CompileError error;
  Pcre2Scratch scratch(1000);
  const Pcre2Pattern exact = Pcre2Pattern::literal("a.b", false, error);  // memmem: no compiled code
  const Pcre2Pattern caseless = Pcre2Pattern::literal("a.b", true, error);
  const Pcre2Pattern regex = Pcre2Pattern::regex("a.b", false, error);
  const Pcre2Pattern broken = Pcre2Pattern::regex("a(b", false, error);
  CHECK(exact.valid());
  CHECK(caseless.valid());
  CHECK(regex.valid());
  CHECK_FALSE(broken.valid());
  CHECK(error.message == "missing closing parenthesis");
  CHECK(error.offset == 3);
  CHECK(exact.matches("xa.b", scratch));
  CHECK_FALSE(exact.matches("axb", scratch));
  CHECK(caseless.matches("A.B", scratch));
  CHECK(regex.matches("axb", scratch));
  CHECK(scratch.errors == 0);
}
