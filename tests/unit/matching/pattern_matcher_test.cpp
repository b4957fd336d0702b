// PatternMatcher behaviour: literals, regexes, fallback, strict mode, limits.
// Every case runs on both engines: Hyperscan+PCRE2 (when the build has it)
// and PCRE2-JIT alone; each answer is cross-checked between match_any,
// match_events and match_events_per_event.
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace preroll::daemon;
using namespace preroll::daemon::test;

namespace {



// The ids of the patterns matching one event, checked three ways.
std::vector<std::uint32_t> which(const PatternMatcher& m, std::string_view name, std::string_view message) {
  auto scratch = m.make_scratch();
  const EventText e{name, message};
  std::vector<PatternHit> hits, per_event;
  m.match_events({&e, 1}, *scratch, hits);
  m.match_events_per_event({&e, 1}, *scratch, per_event);
  CHECK(hits == per_event);
  CHECK(m.match_any(e, *scratch) == !hits.empty());
  std::vector<std::uint32_t> ids;
  for (const PatternHit& h : hits) {
    CHECK(h.event_index == 0);
    ids.push_back(h.pattern_id);
  }
  return ids;
}

bool hit(const PatternMatcher& m, std::string_view message, std::string_view name = "app.event") {
  return !which(m, name, message).empty();
}

using Ids = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("literal_pattern__exact_match__then_detected") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("connection refused")}, hs);
  CHECK(hit(*m, "connect: connection refused (errno 111)"));
  CHECK(hit(*m, "connection refused"));
  CHECK_FALSE(hit(*m, "connection  refused"));
  CHECK_FALSE(hit(*m, "connection refuse"));
}

TEST_CASE("literal_pattern__case_sensitive__then_no_match") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("Timeout")}, hs);
  CHECK(hit(*m, "request Timeout after 30s"));
  CHECK_FALSE(hit(*m, "request timeout after 30s"));
  CHECK_FALSE(hit(*m, "request TIMEOUT after 30s"));
}

TEST_CASE("literal_pattern__case_insensitive__then_matches") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("TimeOut", true)}, hs);
  CHECK(hit(*m, "request timeout after 30s"));
  CHECK(hit(*m, "request TIMEOUT after 30s"));
  CHECK_FALSE(hit(*m, "request time out after 30s"));
}

TEST_CASE("literal_pattern__regex_metacharacters__then_matched_as_text") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("a.b*(c|d)^$\\")}, hs);
  CHECK(hit(*m, "xx a.b*(c|d)^$\\ yy"));
  CHECK_FALSE(hit(*m, "xx axbbc yy"));
  CHECK_FALSE(hit(*m, "a.b*(c|d)^$"));
}

TEST_CASE("regex_pattern__valid_regex__then_matches") {
  const bool hs = GENERATE(true, false);
  const auto m = make({re("timeout after [0-9]+ ?ms")}, hs);
  REQUIRE_FALSE(m->patterns()[0].fell_back_to_literal);
  CHECK(m->patterns()[0].spec.kind == PatternKind::regex);
  CHECK(hit(*m, "rpc: timeout after 250ms"));
  CHECK(hit(*m, "rpc: timeout after 3 ms"));
  CHECK_FALSE(hit(*m, "rpc: timeout after ms"));
}

TEST_CASE("regex_pattern__invalid_regex__then_falls_back_to_literal") {
  const bool hs = GENERATE(true, false);
  const auto m = make({re("timeout(")}, hs);
  const CompiledPattern& c = m->patterns()[0];
  CHECK(c.fell_back_to_literal);
  CHECK(c.spec.kind == PatternKind::literal);
  CHECK(c.spec.text == "timeout(");
  CHECK(c.compile_error == "missing closing parenthesis");
  CHECK(c.error_offset == 8);
  CHECK(hit(*m, "call timeout(30)"));
  CHECK_FALSE(hit(*m, "call timeout"));
}

TEST_CASE("regex_pattern__invalid_quantifier__then_error_offset_points_at_it") {
  const bool hs = GENERATE(true, false);
  const auto m = make({re("ab*+*c", true)}, hs);
  const CompiledPattern& c = m->patterns()[0];
  CHECK(c.fell_back_to_literal);
  CHECK(c.compile_error == "quantifier does not follow a repeatable item");
  CHECK(c.error_offset == 4);
  CHECK(hit(*m, "xAB*+*Cx"));  // literal now, still case-insensitive
  CHECK_FALSE(hit(*m, "abbbc"));
}

TEST_CASE("regex_pattern__complex_pattern__then_matches_correctly") {
  const bool hs = GENERATE(true, false);
  SECTION("alternation") {
    const auto m = make({re("(segfault|SIGSEGV|core dumped)")}, hs);
    CHECK(hit(*m, "worker 3: SIGSEGV at 0x0"));
    CHECK(hit(*m, "(core dumped)"));
    CHECK_FALSE(hit(*m, "sigsegv"));
  }
  SECTION("anchors apply to the field, not the event or the window") {
    const auto m = make({re("^panic:"), re("done$")}, hs);
    CHECK(which(*m, "x", "panic: oops") == Ids{0});
    CHECK(which(*m, "x", "kernel panic: oops").empty());
    CHECK(which(*m, "x", "all done") == Ids{1});
    CHECK(which(*m, "x", "all done\n") == Ids{1});  // PCRE2: $ before a final newline
    CHECK(which(*m, "x", "done twice").empty());
    CHECK(which(*m, "x", "line1\npanic: x").empty());  // ^ is not multiline
  }
  SECTION("classes, counted repeats, word boundaries") {
    const auto m = make({re("\\berr(or)?=[A-Z]{3,6}\\d\\b")}, hs);
    CHECK(hit(*m, "op failed err=EIO5"));
    CHECK(hit(*m, "op failed error=ENOSPC1 again"));
    CHECK_FALSE(hit(*m, "op failed xerr=EIO5"));
    CHECK_FALSE(hit(*m, "op failed err=EIOEIOX5"));
  }
  SECTION("inline (?i) applies to that pattern only") {
    const auto m = make({re("(?i)out of memory"), re("OOM")}, hs);
    CHECK(which(*m, "x", "Out Of Memory") == Ids{0});
    CHECK(which(*m, "x", "oom").empty());
    CHECK(which(*m, "x", "OOM killer") == Ids{1});
  }
  SECTION("lookaround, backreferences and \\A: beyond Hyperscan, still exact") {
    const auto m = make({re("retry(?! ok)"), re("(\\w+) \\1"), re("\\Aboot")}, hs);
    CHECK(which(*m, "x", "retry failed") == Ids{0});
    CHECK(which(*m, "x", "retry ok").empty());
    CHECK(which(*m, "x", "said bye bye") == Ids{1});
    CHECK(which(*m, "x", "said bye now").empty());
    CHECK(which(*m, "x", "boot done") == Ids{2});
    CHECK(which(*m, "x", "reboot").empty());
    if (m->engine() == "hyperscan+pcre2") {
      CHECK(m->patterns()[0].path != MatchPath::hyperscan_exact);
      CHECK(m->patterns()[1].path != MatchPath::hyperscan_exact);
    }
  }
  SECTION("a pattern that matches the empty string matches every event") {
    const auto m = make({re("x*")}, hs);
    CHECK(hit(*m, "abc"));
    CHECK(hit(*m, "", ""));
  }
}

TEST_CASE("regex_pattern__groups_names_verbs_extended_mode__then_each_still_exact") {
  // Patterns that cannot share one combined regex (the PCRE2 engine's
  // prefilter) or Hyperscan's database keep their own meaning.
  const bool hs = GENERATE(true, false);
  const auto m = make({re("(?<n>ab)\\k<n>"), re("(?<n>cd)\\k<n>"), re("(?x) e f  # comment |"), re("\\Qa|b"),
                       re("(a)\\1"), re("x(*COMMIT)y|xz"), lit("zz")},
                      hs);
  for (const CompiledPattern& c : m->patterns()) CHECK_FALSE(c.fell_back_to_literal);
  CHECK(which(*m, "-", "abab") == Ids{0});
  CHECK(which(*m, "-", "cdcd") == Ids{1});
  CHECK(which(*m, "-", "ef") == Ids{2});
  CHECK(which(*m, "-", "e f").empty());
  CHECK(which(*m, "-", "a|b") == Ids{3});
  CHECK(which(*m, "-", "aa") == Ids{4});
  CHECK(which(*m, "-", "xy") == Ids{5});
  CHECK(which(*m, "-", "xz").empty());  // (*COMMIT): no retry at a later alternative
  CHECK(which(*m, "-", "zz") == Ids{6});
  CHECK(which(*m, "-", "ab cd e f a").empty());
}

TEST_CASE("regex_pattern__numbered_reference_or_verb_beside_other_patterns__then_not_disturbed_by_them") {
  // Combined into one regex, \1 would name the other pattern's group and
  // (*COMMIT) would stop the search for the other patterns.
  const bool hs = GENERATE(true, false);
  const auto m = make({re("(x)y"), re("(a)\\1"), re("u(*COMMIT)v"), lit("q")}, hs);
  CHECK(which(*m, "-", "aa") == Ids{1});
  CHECK(which(*m, "-", "xy aa") == Ids{0, 1});
  CHECK(which(*m, "-", "uq") == Ids{3});
  CHECK(which(*m, "-", "uv") == Ids{2});
}

TEST_CASE("regex_pattern__utf_switch_in_pattern__then_refused_as_literal") {
  // Bytes are bytes: a pattern may not turn UTF mode on for itself.
  const bool hs = GENERATE(true, false);
  const auto m = make({re("(*UTF)caf\xc3\xa9")}, hs);
  CHECK(m->patterns()[0].fell_back_to_literal);
  CHECK_FALSE(m->patterns()[0].compile_error.empty());
  CHECK(hit(*m, "(*UTF)caf\xc3\xa9"));
  CHECK_FALSE(hit(*m, "caf\xc3\xa9"));
}

TEST_CASE("regex_pattern__strict_mode_invalid_regex__then_throws_naming_pattern_error_offset") {
  const bool hs = GENERATE(true, false);
  MatcherLimits strict;
  strict.strict = true;
  try {
    (void)make({lit("fine"), re("bad[regex")}, hs, strict);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("pattern #1") != std::string::npos);
    CHECK(what.find("bad[regex") != std::string::npos);
    CHECK(what.find("missing terminating ] for character class") != std::string::npos);
    CHECK(what.find("offset 9") != std::string::npos);
  }
  CHECK_NOTHROW(make({re("good[regex]")}, hs, strict));
}

TEST_CASE("limits__empty_pattern__then_invalid_argument") {
  const bool hs = GENERATE(true, false);
  CHECK_THROWS_WITH(make({lit("ok"), lit("")}, hs), Catch::Contains("pattern #1") && Catch::Contains("empty"));
  CHECK_THROWS_AS(make({re("")}, hs), std::invalid_argument);
}

TEST_CASE("limits__pattern_too_long__then_invalid_argument") {
  const bool hs = GENERATE(true, false);
  MatcherLimits limits;
  limits.max_pattern_length = 16;
  CHECK_NOTHROW(make({lit(std::string(16, 'a'))}, hs, limits));
  CHECK_THROWS_WITH(make({lit(std::string(17, 'a'))}, hs, limits),
                    Catch::Contains("17 bytes long") && Catch::Contains("limit is 16"));
  CHECK_THROWS_AS(make({lit(std::string(5000, 'a'))}, hs), std::invalid_argument);  // default 4096
}

TEST_CASE("limits__too_many_patterns__then_invalid_argument") {
  const bool hs = GENERATE(true, false);
  MatcherLimits limits;
  limits.max_patterns = 3;
  const std::vector<PatternSpec> four{lit("a"), lit("b"), lit("c"), lit("d")};
  CHECK_THROWS_WITH(make(four, hs, limits), Catch::Contains("too many") && Catch::Contains("limit is 3"));
  CHECK_NOTHROW(make({lit("a"), lit("b"), lit("c")}, hs, limits));
}

TEST_CASE("limits__exactly_256_patterns__then_built_and_each_one_matches") {
  const bool hs = GENERATE(true, false);
  MatcherLimits limits;
  limits.max_patterns = 256;
  std::vector<PatternSpec> specs;
  for (int i = 0; i < 256; ++i) {
    const std::string tag = "trigger" + std::to_string(i) + "x";
    specs.push_back(i % 2 == 0 ? lit(tag, i % 4 == 0) : re("trig+er" + std::to_string(i) + "x"));
  }
  const auto m = make(specs, hs, limits);
  REQUIRE(m->patterns().size() == 256);
  for (std::uint32_t i = 0; i < 256; i += 17) {
    INFO("pattern " << i);
    CHECK(which(*m, "n", "..trigger" + std::to_string(i) + "x..") == Ids{i});
  }
  CHECK(which(*m, "n", "trigger256x").empty());
}

TEST_CASE("no_patterns__any_event__then_no_match_and_engine_none") {
  const bool hs = GENERATE(true, false);
  const auto m = make({}, hs);
  CHECK(m->engine() == "none");
  CHECK_FALSE(hit(*m, "anything"));
}

TEST_CASE("engine__hyperscan_asked_for__then_named_and_explained") {
  const auto with = make({lit("x")}, true);
  const auto without = make({lit("x")}, false);
  CHECK(without->engine() == "pcre2-jit");
  if (with->engine() == "hyperscan+pcre2") {
    CHECK(with->hyperscan_note().empty());
    CHECK(with->patterns()[0].path == MatchPath::hyperscan_exact);
  } else {
    CHECK(with->engine() == "pcre2-jit");
    CHECK_FALSE(with->hyperscan_note().empty());  // says why (no Hyperscan in the build, no SSSE3...)
  }
  CHECK(without->patterns()[0].path == MatchPath::pcre2);
}

TEST_CASE("scratch__from_another_matcher__then_refused_and_counted") {
  const bool hs = GENERATE(true, false);
  const auto a = make({lit("x")}, hs);
  const auto b = make({lit("x")}, hs);
  auto scratch_a = a->make_scratch();
  CHECK(a->match_any({"", "x"}, *scratch_a));
  CHECK(scratch_a->match_errors() == 0);
  CHECK_FALSE(b->match_any({"", "x"}, *scratch_a));
  CHECK(scratch_a->match_errors() == 1);
}

TEST_CASE("regex_pattern__catastrophic_backtracking__then_bounded_and_counted") {
  MatcherLimits limits;
  limits.use_hyperscan = false;  // Hyperscan has no backtracking: test PCRE2's own bound
  limits.pcre2_match_limit = 100'000;
  const auto m = PatternMatcher::build({re("(a+)+$")}, limits);
  auto scratch = m->make_scratch();
  CHECK_FALSE(m->match_any({"", std::string(40, 'a') + "b"}, *scratch));
  CHECK(scratch->match_errors() >= 1);
}
