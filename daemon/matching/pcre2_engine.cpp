#include "pcre2_engine.hpp"

#include "matcher_state.hpp"

#include <algorithm>
#include <climits>

namespace preroll::daemon::matching_detail {

// The GCOVR_EXCL_BR_LINE on the next line: it has no source branch, only the compiler's loops over plans_[2]; the
// one destroying a partly built array would run only if building a FieldPlan threw, which it cannot.
Pcre2Engine::Pcre2Engine(const std::vector<CompiledPattern>& patterns, const MatcherState& state) : state_(state) {  // GCOVR_EXCL_BR_LINE
  for (const Part part : {Part::name, Part::message}) {
    FieldPlan& plan = plans_[static_cast<int>(part)];
    std::string alternation;
    for (std::uint32_t id = 0; id < patterns.size(); ++id) {
      const PatternSpec& spec = patterns[id].spec;
      if (!field_allows(spec.field, part)) continue;
      const bool literal = spec.kind == PatternKind::literal;
      if (!literal && !alternation_safe_regex(spec.text)) {
        plan.solo.push_back(id);
        continue;
      }
      if (!alternation.empty()) alternation += '|';
      alternation += spec.ignore_case ? "(?i:" : "(?:";
      alternation += literal ? pcre2_literal(spec.text) : spec.text;
      alternation += ')';
      plan.members.push_back(id);
    }
    // One member alone gains nothing from the detour.
    if (plan.members.size() < 2) {
      plan.solo.insert(plan.solo.end(), plan.members.begin(), plan.members.end());
      plan.members.clear();
      std::sort(plan.solo.begin(), plan.solo.end());
      continue;
    }
    Pcre2CompileError err;
    plan.alternation = Pcre2Pattern::regex(alternation, false, err);
    if (!plan.alternation.valid()) {
      plan.solo.insert(plan.solo.end(), plan.members.begin(), plan.members.end());
      plan.members.clear();
      std::sort(plan.solo.begin(), plan.solo.end());
    }
  }
}

void Pcre2Engine::field_hits(const FieldPlan& plan, std::string_view text, std::uint32_t event, Pcre2Scratch& s,
                             std::vector<PatternHit>& hits) const {
  if (!plan.members.empty() && plan.alternation.test(text, s) != Pcre2Pattern::Answer::no) {
    // Yes, or the combined regex hit a limit: ask each member.
    for (const std::uint32_t id : plan.members)
      if (state_.pcre[id].matches(text, s)) hits.push_back({event, id});
  }
  for (const std::uint32_t id : plan.solo)
    if (state_.pcre[id].matches(text, s)) hits.push_back({event, id});
}

bool Pcre2Engine::match_any(const EventText& e, Pcre2Scratch& s) const noexcept {
  for (const Part part : {Part::name, Part::message}) {
    const FieldPlan& plan = plans_[static_cast<int>(part)];
    const std::string_view text = part == Part::name ? e.name : e.message;
    if (!plan.members.empty()) {
      const Pcre2Pattern::Answer a = plan.alternation.test(text, s);
      if (a == Pcre2Pattern::Answer::yes) return true;  // some member matches
      if (a == Pcre2Pattern::Answer::error)              // a limit: ask each member
        for (const std::uint32_t id : plan.members)
          if (state_.pcre[id].matches(text, s)) return true;
    }
    for (const std::uint32_t id : plan.solo)
      if (state_.pcre[id].matches(text, s)) return true;
  }
  return false;
}

void Pcre2Engine::match_events(std::span<const EventText> events, Pcre2Scratch& s,
                               std::vector<PatternHit>& hits) const {
  const std::size_t n = std::min<std::size_t>(events.size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::size_t first = hits.size();
    field_hits(plans_[0], events[i].name, i, s, hits);
    field_hits(plans_[1], events[i].message, i, s, hits);
    if (hits.size() - first < 2) continue;
    // Both fields, members and solos: put this event's ids in order, once each.
    const auto by_id = [](const PatternHit& a, const PatternHit& b) { return a.pattern_id < b.pattern_id; };
    std::sort(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end(), by_id);
    hits.erase(std::unique(hits.begin() + static_cast<std::ptrdiff_t>(first), hits.end()), hits.end());
  }
}

}  // namespace preroll::daemon::matching_detail
