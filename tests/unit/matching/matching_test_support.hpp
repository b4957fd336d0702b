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

}  // namespace preroll::daemon::test
