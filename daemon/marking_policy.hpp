// The marking policy: which events are "marked", i.e. make their window worth
// keeping. Immutable once built; shared by pointer so a reload can swap in a
// new one while workers finish their window with the old.
//
// This version matches literal triggers (case-sensitive, on the event's name
// or message), a level threshold, and honours the client's own mark flag. PCRE2 patterns, case
// folding, field selection, levels and count conditions extend it
// (issue #4) behind the same match() call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace preroll::daemon {

struct Pattern {
  std::uint32_t id = 0;  // index in patterns(); recorded in window metadata
  std::string text;
};

// Per-window scratch: how often each pattern matched. Sized by the policy.
struct PatternCounts {
  std::vector<std::uint32_t> hits;
  void reset(std::size_t patterns) { hits.assign(patterns, 0); }
};

// What the configuration says; MarkingPolicy::build checks and compiles it.
struct PolicySpec {
  bool enabled = true;
  std::vector<std::string> triggers;  // literal texts
  int level_threshold = 4;            // events at or above are marked; -1: none. Default: error
};

class MarkingPolicy {
 public:
  // Throws std::invalid_argument naming the bad pattern.
  static std::shared_ptr<const MarkingPolicy> build(const PolicySpec& spec);

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] const std::vector<Pattern>& patterns() const noexcept { return patterns_; }

  // True when a trigger matches the event's name or message. Every matching
  // pattern is counted in `counts` (the window's metadata lists them all).
  // Bytes are bytes: any content is safe.
  bool match(std::string_view name, std::string_view message, PatternCounts& counts) const noexcept;

  // True when the level alone marks the event.
  [[nodiscard]] bool level_marks(std::uint8_t level) const noexcept {
    return level_threshold_ >= 0 && level >= level_threshold_;
  }
  [[nodiscard]] int level_threshold() const noexcept { return level_threshold_; }

  // The policy as JSON text, for ATF file headers and diagnostics.
  [[nodiscard]] std::string to_json() const;

 private:
  MarkingPolicy() = default;
  bool enabled_ = true;
  int level_threshold_ = -1;
  std::vector<Pattern> patterns_;
};

}  // namespace preroll::daemon
