// Out of memory while building a matcher or recording hits, and Hyperscan's
// own allocations failing: build and make_scratch throw std::bad_alloc (or
// fall back to PCRE2), a hit that cannot be recorded makes the engine redo
// the field or the chunk with PCRE2, and the answers stay the exact ones.
#include "../../support/failing_new.hpp"
#include "../../support/failing_new_impl.hpp"  // this executable's operator new
#include "hyperscan_hooks.hpp"
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <catch2/catch.hpp>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

using namespace preroll::daemon;
using namespace preroll::daemon::test;
using preroll::test::count_allocations;
using preroll::test::run_with_failing_allocation;

using OomHits = std::vector<PatternHit>;

TEST_CASE("oom__a_field_hit_cannot_be_recorded__then_the_field_is_redone_by_pcre2_and_counted") {
  if (!hyperscan_in_this_build()) return;  // the PCRE2 engine records hits outside any callback
  // In the redo: a pattern Hyperscan does not take (a raw NUL), one for
  // names only, one that does not match.
  const auto m = make({lit("x"), re("y+z"), re(std::string("q\0", 2)), lit("w", false, PatternField::name),
                       lit("absent")},
                      true);
  REQUIRE(m->patterns()[2].path == MatchPath::pcre2);
  const std::vector<EventText> events{{"n", "-x-yyz-w"}, {"x", ""}};
  auto scratch = m->make_scratch();  // its hit buffer is still empty: the first hit allocates
  OomHits hits;
  hits.reserve(16);
  const auto run = run_with_failing_allocation(0, false, [&] { m->match_events_per_event(events, *scratch, hits); });
  CHECK(run.fired);
  CHECK_FALSE(run.threw_bad_alloc);
  CHECK(hits == OomHits{{0, 0}, {0, 1}, {1, 0}});
  CHECK(scratch->match_errors() == 1);
  CHECK(hits == hits_all_ways(*m, events));
}

TEST_CASE("oom__a_chunk_candidate_cannot_be_recorded__then_the_chunk_is_redone_by_pcre2_and_counted") {
  if (!hyperscan_in_this_build()) return;
  const auto m = make({lit("x"), re("y+z"), lit("w", false, PatternField::name), lit("absent")}, true);
  // 70 candidates in one chunk: one more than the 64 the scratch reserves.
  std::vector<EventText> events(70, EventText{"n", "x"});
  events[69] = {"w", "yyz w"};
  auto scratch = m->make_scratch();
  OomHits hits;
  hits.reserve(128);
  const auto run = run_with_failing_allocation(0, false, [&] { m->match_events(events, *scratch, hits); });
  CHECK(run.fired);
  CHECK_FALSE(run.threw_bad_alloc);
  CHECK(scratch->match_errors() == 1);
  REQUIRE(hits.size() == 71);
  CHECK(hits[0] == PatternHit{0, 0});
  CHECK(hits[69] == PatternHit{69, 1});
  CHECK(hits[70] == PatternHit{69, 2});
  CHECK(hits == hits_all_ways(*m, events));
}

namespace {

const std::vector<PatternSpec> kOomSpecs{lit("alpha"), lit("Beta", true), re("g+a(m)\\1"), re("d[eE]l+ta"),
                                         re("\\Aeps"),  re("z(eta"),        re("et+a", true, PatternField::message)};
const std::vector<EventText> kOomEvents{{"alpha", "beta"}, {"eps", "gamm delta"}, {"n", "z(eta ETTA"}};
const OomHits kOomExpected{{0, 0}, {0, 1}, {0, 6}, {1, 2}, {1, 3}, {1, 4}, {2, 5}, {2, 6}};

// Builds kOomSpecs with allocation number n failing. Returns whether it
// failed (the build may not make that many allocations); the matcher, if
// build returned one, in `m`; whether build threw std::bad_alloc in `threw`.
bool oom_build(long n, bool hs, std::unique_ptr<const PatternMatcher>& m, bool& threw) {
  m.reset();
  const auto run = run_with_failing_allocation(n, false, [&] { m = make(kOomSpecs, hs); });
  threw = run.threw_bad_alloc;
  return run.fired;
}

}  // namespace

TEST_CASE("oom__each_allocation_of_build_failing_in_turn__then_bad_alloc_and_nothing_leaks") {
  // PCRE2 engine: every allocation of build fails once, in turn. Each time
  // build throws std::bad_alloc and ASan's leak check sees nothing left.
  REQUIRE(hits_all_ways(*make(kOomSpecs, false), kOomEvents) == kOomExpected);
  long n = 0;
  for (;; ++n) {
    std::unique_ptr<const PatternMatcher> m;
    bool threw = false;
    const bool fired = oom_build(n, false, m, threw);
    INFO("allocation " << n);
    REQUIRE(threw == fired);
    if (!fired) break;  // build makes n allocations
  }
  CHECK(n > 20);
}

TEST_CASE("oom__allocations_of_a_hyperscan_build_failing__then_bad_alloc_or_an_exact_matcher") {
  // With Hyperscan most allocations are its compiler's (thousands): a
  // failure there is its own compile error, and the matcher runs on PCRE2
  // alone (or on the patterns it could take). The first 40 allocations fail
  // in turn, then 60 spread over the rest.
  if (!hyperscan_in_this_build()) return;
  REQUIRE(hits_all_ways(*make(kOomSpecs, true), kOomEvents) == kOomExpected);
  std::unique_ptr<const PatternMatcher> m;
  bool threw = false;
  const long total = count_allocations(false, [] { (void)make(kOomSpecs, true); });
  std::vector<long> points;
  for (long n = 0; n < 40 && n < total; ++n) points.push_back(n);
  for (long k = 1; k <= 60; ++k) points.push_back(40 + (total - 40) * k / 61);
  int threw_count = 0, survived = 0;
  for (const long n : points) {
    INFO("allocation " << n << " of " << total);
    REQUIRE(oom_build(n, true, m, threw));
    if (threw) {
      ++threw_count;
      continue;
    }
    ++survived;
    REQUIRE(m != nullptr);
    CHECK(hits_all_ways(*m, kOomEvents) == kOomExpected);
  }
  CHECK(threw_count > 10);
  CHECK(survived > 10);
}

TEST_CASE("oom__make_scratch_with_allocations_failing__then_bad_alloc") {
  const bool hs = GENERATE(false, true);
  const auto m = make({lit("x"), re("y+z"), re("\\Aw")}, hs);
  for (long n = 0;; ++n) {
    const auto run = run_with_failing_allocation(n, false, [&] { (void)m->make_scratch(); });
    CHECK(run.threw_bad_alloc == run.fired);
    if (!run.fired) break;
  }
  CHECK(hits_all_ways(*m, {{"w", "yz"}}) == OomHits{{0, 1}, {0, 2}});
}

TEST_CASE("hyperscan_oom__database_allocation_fails__then_pcre2_alone_with_the_reason") {
  if (!hs_hooks_available() || !hyperscan_in_this_build()) return;
#ifdef PREROLL_TEST_HS_HOOKS
  // Three databases: every pattern, the chunk-safe ones, the others (\A).
  const std::vector<PatternSpec> specs{lit("x"), re("y+z"), re("\\Aw")};
  const std::vector<EventText> events{{"w", "x"}, {"n", "yyz w"}};
  const OomHits expected{{0, 0}, {0, 2}, {1, 1}};
  for (int succeed = 0; succeed < 3; ++succeed) {
    INFO("database allocations that succeed: " << succeed);
    std::unique_ptr<const PatternMatcher> m;
    {
      FailHyperscanAllocation fail(FailHyperscanAllocation::Kind::database, succeed);
      m = make(specs, true);
    }
    CHECK(m->engine() == "pcre2-jit");
    CHECK(m->hyperscan_note() == "Hyperscan: Could not allocate memory for bytecode.");
    CHECK(hits_all_ways(*m, events) == expected);
  }
  FailHyperscanAllocation fail(FailHyperscanAllocation::Kind::database, 3);
  const auto m = make(specs, true);
  CHECK(m->engine() == "hyperscan+pcre2");
  CHECK(hits_all_ways(*m, events) == expected);
#endif
}

TEST_CASE("hyperscan_oom__scratch_allocation_fails__then_make_scratch_throws") {
  if (!hs_hooks_available() || !hyperscan_in_this_build()) return;
#ifdef PREROLL_TEST_HS_HOOKS
  using Kind = FailHyperscanAllocation::Kind;
  const auto m = make({lit("x"), re("y+z"), re("\\Aw"), re("a.*b")}, true);
  {
    FailHyperscanAllocation fail(Kind::scratch, 0);
    CHECK_THROWS_AS(m->make_scratch(), std::bad_alloc);
  }
  {
    // Hyperscan refuses memory off its alignment: not out of memory, an error.
    FailHyperscanAllocation fail(Kind::scratch, 0, /*misalign=*/true);
    CHECK_THROWS_WITH(m->make_scratch(), "hs_alloc_scratch failed: -9");
  }
  // Each allocation failing in turn (growing the scratch for a later
  // database among them, which frees the earlier one): bad_alloc each time,
  // nothing leaks, until all succeed.
  int failures = 0;
  for (int succeed = 0; succeed < 100; ++succeed) {
    FailHyperscanAllocation fail(Kind::scratch, succeed);
    try {
      (void)m->make_scratch();
      break;
    } catch (const std::bad_alloc&) {
      ++failures;
    }
  }
  CHECK(failures >= 3);  // three databases: at least one allocation each
  CHECK(hits_all_ways(*m, {{"w", "x"}}) == OomHits{{0, 0}, {0, 2}});
#endif
}
