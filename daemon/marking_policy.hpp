// The marking policy: which events are "marked", i.e. make their window worth
// keeping. Built from the configuration, immutable once built, shared by
// pointer: a reload builds a new one and swaps it in (PolicyHolder) while the
// worker finishes its window with the old one; the last user frees it.
//
// An event is marked when the client marked it, its level is at or above the
// threshold, or a trigger pattern matches it (and the trigger's count
// condition, if any, is met for that client: CountConditions).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "matching/pattern_matcher.hpp"
#include "window_selector.hpp"

namespace preroll::daemon {

// Observability of each pattern: how often it marked, and the last match.
// Updated by the persistence worker, read by whoever reports (any thread).
class PatternStats {
 public:
  explicit PatternStats(std::size_t patterns) : hits_(patterns) {}
  void add_hits(std::uint32_t id, std::uint64_t n) noexcept { hits_[id].fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t hits(std::uint32_t id) const noexcept {
    return hits_[id].load(std::memory_order_relaxed);
  }
  struct LastMatch {
    std::uint64_t monotonic_ns = 0;
    std::uint32_t pid = 0;
    std::string excerpt;  // at most 120 bytes of the message
  };
  void set_last(std::uint32_t id, LastMatch m);
  [[nodiscard]] LastMatch last(std::uint32_t id) const;

 private:
  std::vector<std::atomic<std::uint64_t>> hits_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::uint32_t, LastMatch>> last_;  // guarded by mutex_
};

class MarkingPolicy {
 public:
  // Throws std::invalid_argument with a message naming the option and value
  // (bad pattern, too many, invalid regex with --strict-patterns).
  static std::shared_ptr<const MarkingPolicy> build(const PolicyConfig& config);

  [[nodiscard]] bool enabled() const noexcept { return config_.marking; }
  [[nodiscard]] const PolicyConfig& config() const noexcept { return config_; }
  [[nodiscard]] bool level_marks(std::uint8_t level) const noexcept {
    return config_.trigger_level >= 0 && level >= config_.trigger_level;
  }
  [[nodiscard]] int level_threshold() const noexcept { return config_.trigger_level; }
  // Pre-/post-roll and crash handling, for a client with `rings_per_lane`
  // rings: the daemon never holds so many that the client has no spare
  // (one ring active, one spare at least).
  [[nodiscard]] SelectionPolicy selection(std::uint32_t rings_per_lane) const noexcept;

  // Null when there are no trigger patterns.
  [[nodiscard]] const PatternMatcher* matcher() const noexcept { return matcher_.get(); }
  [[nodiscard]] std::size_t pattern_count() const noexcept { return config_.triggers.size(); }
  [[nodiscard]] const TriggerSpec& trigger(std::uint32_t id) const noexcept { return config_.triggers[id]; }
  [[nodiscard]] bool has_count_conditions() const noexcept { return has_count_conditions_; }

  // Whether one event is marked by its level or a pattern, count conditions
  // aside (they need a client's history: CountConditions). For diagnostics
  // and tests; windows are marked in bulk by ClientSegment.
  [[nodiscard]] bool marks(std::string_view name, std::string_view message, std::uint8_t level,
                           PatternMatcher::Scratch* scratch) const noexcept;

  // One line per regex that fell back to a literal (pattern, PCRE2 error, offset).
  [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }
  [[nodiscard]] PatternStats& stats() const noexcept { return *stats_; }

  // The policy as JSON text, for ATF file headers and diagnostics.
  [[nodiscard]] std::string to_json() const;

 private:
  MarkingPolicy() = default;
  PolicyConfig config_;
  std::unique_ptr<const PatternMatcher> matcher_;
  bool has_count_conditions_ = false;
  std::vector<std::string> warnings_;
  std::unique_ptr<PatternStats> stats_;  // mutable counters of an immutable policy
};

// The policy in force. Workers load it once per window; a reload stores a
// new one. The shared_ptr keeps the old policy alive for any window still
// using it. A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12's
// version unlocks its internal lock bit with a relaxed store after a load,
// which ThreadSanitizer rightly reports as a race with the next store; an
// uncontended lock per window costs nothing measurable.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const MarkingPolicy> p) : current_(std::move(p)) {}
  [[nodiscard]] std::shared_ptr<const MarkingPolicy> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void store(std::shared_ptr<const MarkingPolicy> p) {
    std::lock_guard lock(mutex_);
    current_.swap(p);
    // The old policy (now in p) is released after the unlock.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const MarkingPolicy> current_;
};

}  // namespace preroll::daemon
