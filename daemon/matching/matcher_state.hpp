// The insides of PatternMatcher and its Scratch, shared by the PCRE2 and the
// Hyperscan paths. Internal to preroll_matching (PREROLL_HAVE_HYPERSCAN is a
// private definition of the library, so nothing outside may include this).
#pragma once

#include "pattern_matcher.hpp"
#include "pattern_syntax.hpp"
#include "pcre2_engine.hpp"
#include "pcre2_pattern.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#ifdef PREROLL_HAVE_HYPERSCAN
#include "hyperscan_engine.hpp"
#endif

namespace preroll::daemon::matching_detail {

struct MatcherState {
  std::vector<Pcre2Pattern> pcre;   // by pattern id: the exact matcher
  std::vector<PatternField> field;  // by pattern id
  std::uint32_t match_limit = 0;
  std::string hyperscan_note;
#ifdef PREROLL_HAVE_HYPERSCAN
  std::unique_ptr<HyperscanEngine> hs;  // null: PCRE2 alone
#endif
  std::unique_ptr<Pcre2Engine> pcre2_engine;  // when there is no hs

  [[nodiscard]] bool has_hyperscan() const noexcept {
#ifdef PREROLL_HAVE_HYPERSCAN
    return hs != nullptr;
#else
    return false;
#endif
  }

  // The exact answer for one pattern and one event.
  [[nodiscard]] bool pcre2_matches(std::uint32_t id, const EventText& e, Pcre2Scratch& s) const noexcept {
    const PatternField f = field[id];
    return (f != PatternField::message && pcre[id].matches(e.name, s)) ||
           (f != PatternField::name && pcre[id].matches(e.message, s));
  }
  [[nodiscard]] bool pcre2_any(const EventText& e, Pcre2Scratch& s) const noexcept {
    for (std::uint32_t id = 0; id < pcre.size(); ++id)
      if (pcre2_matches(id, e, s)) return true;
    return false;
  }
};

struct ScratchState {
  explicit ScratchState(const MatcherState& m) : owner(&m), pcre(m.match_limit) {}

  const MatcherState* owner;
  Pcre2Scratch pcre;
  std::uint64_t errors = 0;       // engine errors other than PCRE2's own
  std::vector<PatternHit> found;  // hits of one call before sorting
#ifdef PREROLL_HAVE_HYPERSCAN
  HyperscanScratch hs;
#endif
};

}  // namespace preroll::daemon::matching_detail
