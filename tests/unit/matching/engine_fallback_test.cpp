// What the matcher does when an engine refuses a pattern or fails on a text:
// Hyperscan refusing an expression or a whole database, PCRE2 refusing a
// combined alternation or stopping at its match limit, patterns PCRE2 cannot
// compile, error messages. Whatever path a pattern ends on, the answers are
// the exact ones.
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace preroll::daemon;
using namespace preroll::daemon::test;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;

using FallbackHits = std::vector<PatternHit>;

TEST_CASE("errors__pattern_with_unprintable_bytes__then_message_shows_them_escaped_and_cut") {
  MatcherLimits limits;
  limits.max_pattern_length = 50;
  const std::string text = std::string("\x01\"\\\x7f\xff") + std::string(100, 'x');
  try {
    (void)PatternMatcher::build({lit("ok"), lit(text)}, limits);
    FAIL("a pattern over the length limit was accepted");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK_THAT(what, StartsWith("pattern #1 \"\\x01\\x22\\x5c\\x7f\\xffxxx"));
    // The first 80 bytes shown: 5 escaped, 75 x.
    CHECK_THAT(what, EndsWith(std::string(75, 'x') + "...\": 105 bytes long, the limit is 50"));
    CHECK(what.find(std::string(76, 'x')) == std::string::npos);
  }
}

TEST_CASE("literal_pattern__caseless_and_too_large_for_pcre2__then_invalid_argument_naming_it") {
  // PCRE2 compiles at most 64 KiB: a caseless literal of 40000 bytes does not
  // fit. (It used to throw std::bad_alloc, as if memory had run out.)
  const bool hs = GENERATE(true, false);
  MatcherLimits limits;
  limits.max_pattern_length = 100'000;
  limits.use_hyperscan = hs;
  const std::string big(40'000, 'q');
  try {
    (void)PatternMatcher::build({lit("small"), lit(big, /*ignore_case=*/true)}, limits);
    FAIL("a caseless literal PCRE2 cannot compile was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(std::string(e.what()), StartsWith("pattern #1 \"qqq"));
    CHECK_THAT(std::string(e.what()), Contains("PCRE2 cannot take it: regular expression is too large"));
  }
  // Case-sensitive, the same text is matched with memmem: no limit.
  const auto m = PatternMatcher::build({lit(big)}, limits);
  CHECK(hits_all_ways(*m, {{"n", "<" + big + ">"}, {"n", big.substr(1)}}) == FallbackHits{{0, 0}});
}

TEST_CASE("regex_pattern__invalid_and_too_large_as_caseless_literal__then_invalid_argument") {
  // An invalid regex falls back to a literal; when that literal cannot be
  // compiled either, the pattern is refused rather than silently dropped.
  MatcherLimits limits;
  limits.max_pattern_length = 100'000;
  limits.use_hyperscan = false;
  const std::string bad = "(" + std::string(40'000, 'q');  // missing ')'
  CHECK_THROWS_WITH(PatternMatcher::build({re(bad, /*ignore_case=*/true)}, limits),
                    StartsWith("pattern #0 \"(qqq") && Contains("regular expression is too large"));
}

TEST_CASE("pcre2_engine__alternation_too_large_to_compile__then_each_pattern_tried_alone_and_exact") {
  // 16 literals of 4 KiB: each compiles, their alternation (over 64 KiB
  // compiled) does not. Every pattern is then tried on its own.
  std::vector<PatternSpec> specs;
  std::vector<std::string> texts;
  for (int i = 0; i < 16; ++i) {
    texts.push_back("p" + std::to_string(i) + "-" + std::string(4000, static_cast<char>('a' + i)));
    specs.push_back(lit(texts.back(), /*ignore_case=*/i % 2 == 0));
  }
  const auto m = make(specs, /*hyperscan=*/false);
  CHECK(m->engine() == "pcre2-jit");
  const FallbackHits hits = hits_all_ways(*m, {{"n", "none of them"}, {texts[7], ""}, {"n", "x" + texts[12] + "x" + texts[3]}});
  CHECK(hits == FallbackHits{{1, 7}, {2, 3}, {2, 12}});
}

TEST_CASE("pcre2_engine__combined_regex_hits_the_match_limit__then_members_asked_one_by_one") {
  // (a+)+$ backtracks exponentially on a run of a's not at the end: the
  // combined (?:(a+)+$)|(?:b) stops at the match limit, and each member is
  // then asked alone: (a+)+$ stops too (counted), b still answers.
  MatcherLimits limits;
  limits.use_hyperscan = false;
  limits.pcre2_match_limit = 100'000;
  const auto m = PatternMatcher::build({re("(a+)+$"), lit("b")}, limits);
  const std::string run = std::string(40, 'a') + "X";
  auto scratch = m->make_scratch();

  CHECK(m->match_any({"n", run + " b"}, *scratch));
  CHECK(scratch->match_errors() == 1);  // the member's error; the alternation's is not counted

  auto scratch2 = m->make_scratch();
  CHECK_FALSE(m->match_any({"n", run}, *scratch2));  // no member matches either
  CHECK(scratch2->match_errors() == 1);

  auto scratch3 = m->make_scratch();
  FallbackHits hits;
  m->match_events(std::vector<EventText>{{"n", run + " b"}, {"n", run}}, *scratch3, hits);
  CHECK(hits == FallbackHits{{0, 1}});
  CHECK(scratch3->match_errors() == 2);
}

TEST_CASE("hyperscan__literal_over_its_length_limit__then_matched_by_pcre2_alone") {
  if (!hyperscan_in_this_build()) return;  // nothing to refuse
  // 4096 punctuation bytes are 16384 characters escaped (\x2e each), over
  // Hyperscan's 16000: it refuses that one pattern, the others stay.
  const std::string dots(4096, '.');
  const auto m = make({lit(dots), lit("x"), re("y+z")}, true);
  CHECK(m->hyperscan_note().empty());
  CHECK(m->patterns()[0].path == MatchPath::pcre2);
  CHECK(m->patterns()[1].path == MatchPath::hyperscan_exact);
  CHECK(m->patterns()[2].path == MatchPath::hyperscan_exact);
  CHECK(hits_all_ways(*m, {{"n", "a" + dots + "b"}, {"n", dots.substr(1) + "x"}, {"yyz", ""}}) ==
        FallbackHits{{0, 0}, {1, 1}, {2, 2}});
}

TEST_CASE("hyperscan__regex_too_large_exact_and_prefiltered__then_demoted_to_pcre2_alone") {
  if (!hyperscan_in_this_build()) return;  // nothing to refuse
  // hs_expression_info accepts (?:a{0,200}b){130}; the compiler refuses it
  // as "Pattern is too large", exact and then in prefilter mode.
  const auto m = make({re("(?:a{0,200}b){130}"), lit("x")}, true);
  CHECK(m->hyperscan_note().empty());
  CHECK(m->patterns()[0].path == MatchPath::pcre2);
  CHECK(m->patterns()[1].path == MatchPath::hyperscan_exact);
  CHECK(hits_all_ways(*m, {{"n", std::string(130, 'b')}, {"n", std::string(129, 'b') + "x"}}) == FallbackHits{{0, 0}, {1, 1}});
}

TEST_CASE("hyperscan__database_wide_compile_error__then_pcre2_alone_and_the_reason_given") {
  if (!hyperscan_in_this_build()) return;  // nothing to refuse
  // (?:x{300}y){300} passes hs_expression_info, but compiling it exceeds a
  // resource limit that names no expression: Hyperscan is left out entirely.
  const auto m = make({re("(?:x{300}y){300}"), lit("needle")}, true);
  const auto pcre2 = make({re("(?:x{300}y){300}"), lit("needle")}, false);
  CHECK(m->engine() == "pcre2-jit");
  CHECK(m->hyperscan_note() == "Hyperscan: Resource limit exceeded.");
  CHECK(m->patterns()[0].path == MatchPath::pcre2);
  std::string run;
  for (int i = 0; i < 300; ++i) run += std::string(300, 'x') + "y";
  const std::vector<EventText> events{{"n", run}, {"needle", ""}, {"n", run.substr(1)}};
  CHECK(hits_all_ways(*m, events) == FallbackHits{{0, 0}, {1, 1}});
  CHECK(hits_all_ways(*pcre2, events) == FallbackHits{{0, 0}, {1, 1}});
}

TEST_CASE("hyperscan__regex_with_a_raw_nul_byte__then_matched_by_pcre2_alone") {
  if (!hyperscan_in_this_build()) return;  // nothing to refuse
  const std::string nul_re("a\0+b", 4);
  const auto m = make({re(nul_re), lit("x")}, true);
  CHECK(m->patterns()[0].path == MatchPath::pcre2);
  CHECK(m->patterns()[0].spec.kind == PatternKind::regex);
  CHECK(hits_all_ways(*m, {{"n", std::string("-a\0\0b-", 6)}, {"n", "ab"}, {"x", ""}}) == FallbackHits{{0, 0}, {2, 1}});
}

TEST_CASE("match_events__empty_window_or_only_empty_fields__then_no_hits_and_no_errors") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("x"), re("y+")}, hs);
  CHECK(hits_all_ways(*m, {}).empty());
  CHECK(hits_all_ways(*m, {{"", ""}, {"", ""}}).empty());
}

TEST_CASE("match_events__scratch_from_another_matcher__then_no_hits_and_counted") {
  const bool hs = GENERATE(true, false);
  const auto a = make({lit("x")}, hs);
  const auto b = make({lit("x")}, hs);
  auto scratch_a = a->make_scratch();
  const std::vector<EventText> events{{"x", "x"}};
  FallbackHits hits;
  b->match_events(events, *scratch_a, hits);
  b->match_events_per_event(events, *scratch_a, hits);
  CHECK(hits.empty());
  CHECK(scratch_a->match_errors() == 2);
  a->match_events(events, *scratch_a, hits);
  CHECK(hits == FallbackHits{{0, 0}});
}
