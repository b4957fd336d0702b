// Count conditions of triggers ("five timeouts in ten seconds"), per client:
// a trigger with --min-count N --within S marks an event only when it is the
// N-th match (or later) within the last S seconds of that client's events.
// Used by the persistence worker only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace preroll::daemon {

class MarkingPolicy;

class CountConditions {
 public:
  // Records a match of `pattern` at `t_ns` and says whether the condition
  // holds now. Patterns without a condition always hold. State is reset
  // when the policy changes (pattern ids are per policy).
  bool on_match(const MarkingPolicy& policy, std::uint32_t pattern, std::uint64_t t_ns);

 private:
  const MarkingPolicy* policy_ = nullptr;  // identity only: which policy the state belongs to
  std::vector<std::deque<std::uint64_t>> recent_;  // per pattern: match times within the span
};

}  // namespace preroll::daemon
