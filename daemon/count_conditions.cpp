#include "count_conditions.hpp"

#include "marking_policy.hpp"

namespace preroll::daemon {

bool CountConditions::on_match(const MarkingPolicy& policy, std::uint32_t pattern, std::uint64_t t_ns) {
  const TriggerSpec& t = policy.trigger(pattern);
  if (t.min_count <= 1) return true;
  if (policy_ != &policy) {
    policy_ = &policy;
    recent_.assign(policy.pattern_count(), {});
  }
  auto& times = recent_[pattern];
  times.push_back(t_ns);
  // Bounded memory: only matches inside the span are kept, and never more
  // than min_count of them (older ones cannot change the answer).
  // Windows of different lanes arrive out of time order: a match older than
  // the newest kept one counts as inside the span.
  // Never empties: the match just added has age 0 and min_count is at least 2.
  const auto age = [&](std::uint64_t then) { return t_ns > then ? t_ns - then : 0; };
  while (age(times.front()) > t.within_ns || times.size() > t.min_count) times.pop_front();
  return times.size() >= t.min_count;
}

}  // namespace preroll::daemon
