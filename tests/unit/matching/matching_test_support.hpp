// Shared by the matching tests: pattern spec shorthands, a matcher built on
// either engine, and how Catch prints a hit.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "pattern_matcher.hpp"

namespace Catch {
template <>
struct StringMaker<preroll::daemon::PatternHit> {
  static std::string convert(const preroll::daemon::PatternHit& h) {
    return "{event " + std::to_string(h.event_index) + ", pattern " + std::to_string(h.pattern_id) + "}";
  }
};
}  // namespace Catch

namespace preroll::daemon::test {

inline PatternSpec lit(std::string text, bool ignore_case = false, PatternField field = PatternField::any) {
  return {std::move(text), PatternKind::literal, ignore_case, field};
}
inline PatternSpec re(std::string text, bool ignore_case = false, PatternField field = PatternField::any) {
  return {std::move(text), PatternKind::regex, ignore_case, field};
}

// `hyperscan` false forces the PCRE2-only engine.
inline std::unique_ptr<const PatternMatcher> make(const std::vector<PatternSpec>& specs, bool hyperscan,
                                                  MatcherLimits limits = {}) {
  limits.use_hyperscan = hyperscan;
  return PatternMatcher::build(specs, limits);
}

// Whether this build and CPU give Hyperscan (else its tests have nothing to check).
inline bool hyperscan_in_this_build() { return make({lit("x")}, true)->engine() == "hyperscan+pcre2"; }

// Every hit of `events` with a fresh scratch, checked to be the same by all
// three match calls and to have needed no engine error.
inline std::vector<PatternHit> hits_all_ways(const PatternMatcher& m, const std::vector<EventText>& events) {
  auto scratch = m.make_scratch();
  std::vector<PatternHit> chunked, per_event;
  m.match_events(events, *scratch, chunked);
  m.match_events_per_event(events, *scratch, per_event);
  CHECK(chunked == per_event);
  for (std::uint32_t i = 0; i < events.size(); ++i) {
    bool any = false;
    for (const PatternHit& h : chunked) any = any || h.event_index == i;
    CHECK(m.match_any(events[i], *scratch) == any);
  }
  CHECK(scratch->match_errors() == 0);
  return chunked;
}

}  // namespace preroll::daemon::test
