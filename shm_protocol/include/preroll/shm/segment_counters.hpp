// The statistics a segment's writers keep (lane counters and the process
// line), summed over every lane. Read by the client library for
// preroll_get_counters() and by the daemon for its per-client stats.
#pragma once

#include <cstdint>

#include "preroll/shm/segment_layout.hpp"

namespace preroll::shm {

struct SegmentCounterTotals {
  std::uint64_t events_written = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t events_overwritten = 0;
  std::uint64_t bytes_overwritten = 0;
  std::uint64_t events_truncated = 0;
  std::uint64_t events_dropped_nested = 0;
  std::uint64_t ring_swaps = 0;
  std::uint64_t swaps_without_spare = 0;
  std::uint64_t events_dropped_no_lane = 0;
  std::uint32_t lanes_active = 0;
};

// Relaxed loads: statistics; each counter is monotonic on its own and none
// publishes other data. The daemon must treat the totals as claims of the
// client (they are the client's memory).
[[nodiscard]] inline SegmentCounterTotals sum_counters(const SegmentRef& seg) noexcept {
  SegmentCounterTotals t;
  const std::uint32_t lanes = seg.layout().geometry.lane_count;
  for (std::uint32_t l = 0; l < lanes; ++l) {
    const LaneControl& lane = seg.lane(l);
    t.events_written += lane.events_written.load(std::memory_order_relaxed);
    t.bytes_written += lane.bytes_written.load(std::memory_order_relaxed);
    t.events_overwritten += lane.events_overwritten.load(std::memory_order_relaxed);
    t.bytes_overwritten += lane.bytes_overwritten.load(std::memory_order_relaxed);
    t.events_truncated += lane.events_truncated.load(std::memory_order_relaxed);
    t.events_dropped_nested += lane.events_dropped_nested.load(std::memory_order_relaxed);
    t.ring_swaps += lane.ring_swaps.load(std::memory_order_relaxed);
    t.swaps_without_spare += lane.swaps_without_spare.load(std::memory_order_relaxed);
    if (lane.state.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(LaneState::active)) ++t.lanes_active;
  }
  t.events_dropped_no_lane = seg.header().events_dropped_no_lane.load(std::memory_order_relaxed);
  return t;
}

}  // namespace preroll::shm
