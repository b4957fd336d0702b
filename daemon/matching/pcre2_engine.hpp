// PatternMatcher without Hyperscan: PCRE2-JIT alone. Internal to
// preroll_matching.
//
// Per field (name, message) one JIT-compiled alternation (?:p0)|(?i:p1)|...
// of the patterns that keep their meaning inside one (pattern_syntax.hpp)
// answers "does any of them match this field"; only on a yes (rare: ~0.1% of
// events carry a trigger) are its members tried one by one to say which. The
// other patterns are tried one by one on every field. Measured with
// bench_marking (pcre2_engine vs alternation): at 16 patterns this costs what
// one alternation costs instead of 16 separate matches (about 4x less).
#pragma once

#include "pattern_matcher.hpp"
#include "pattern_syntax.hpp"
#include "pcre2_pattern.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace preroll::daemon::matching_detail {

struct MatcherState;

class Pcre2Engine {
 public:
  // Throws std::bad_alloc. A combined alternation PCRE2 refuses (say, two
  // members naming a group alike) leaves its members to be tried one by one.
  Pcre2Engine(const std::vector<CompiledPattern>& patterns, const MatcherState& state);

  [[nodiscard]] bool match_any(const EventText& e, Pcre2Scratch& s) const noexcept;
  // Appends the hits in order (event, then pattern id).
  void match_events(std::span<const EventText> events, Pcre2Scratch& s, std::vector<PatternHit>& hits) const;

 private:
  struct FieldPlan {
    Pcre2Pattern alternation;           // invalid: none
    std::vector<std::uint32_t> members;  // the ids combined in it
    std::vector<std::uint32_t> solo;     // ids tried one by one on every field of this kind
  };
  // Appends the ids matching `text` (unsorted) as hits of `event`.
  void field_hits(const FieldPlan& plan, std::string_view text, std::uint32_t event, Pcre2Scratch& s,
                  std::vector<PatternHit>& hits) const;

  const MatcherState& state_;
  FieldPlan plans_[2];  // by Part
};

}  // namespace preroll::daemon::matching_detail
