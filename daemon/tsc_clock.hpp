// The daemon's conversion of raw TSC timestamps to CLOCK_MONOTONIC ns.
//
// The TSC is one machine-wide counter (clients only use it when it is
// invariant and the kernel's clocksource), so the daemon calibrates it once
// for all clients and keeps refining: the rate comes from the longest span
// between two (TSC, CLOCK_MONOTONIC) pairs, the offset from the most recent
// pair, so NTP's slewing of CLOCK_MONOTONIC is followed within a second.
// Used by the persistence worker thread only.
#pragma once

#include <cstdint>

#include "preroll/shm/tsc.hpp"

namespace preroll::daemon {

class TscClock {
 public:
  // Calibrates over `initial_span_ns` (blocking the caller that long).
  explicit TscClock(std::uint64_t initial_span_ns = 20'000'000) noexcept;

  // Takes a new pair if the last is older than a second.
  void refresh() noexcept;

  [[nodiscard]] std::uint64_t to_monotonic_ns(std::uint64_t tsc) const noexcept;
  [[nodiscard]] double ns_per_tick() const noexcept { return ns_per_tick_; }

 private:
  shm::ClockPair first_;
  shm::ClockPair latest_;
  double ns_per_tick_ = 0;
};

}  // namespace preroll::daemon
