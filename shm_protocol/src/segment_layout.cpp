#include "preroll/shm/segment_layout.hpp"

#include "preroll/shm/event_record.hpp"

namespace preroll::shm {

std::optional<std::string> check_geometry(const Geometry& g) {
  if (g.lane_count < kMinLanes || g.lane_count > kMaxLanes)
    return "lane count " + std::to_string(g.lane_count) + " outside [" + std::to_string(kMinLanes) + ", " +
           std::to_string(kMaxLanes) + "]";
  if (g.rings_per_lane < kMinRingsPerLane || g.rings_per_lane > kMaxRingsPerLane)
    return "rings per lane " + std::to_string(g.rings_per_lane) + " outside [" + std::to_string(kMinRingsPerLane) +
           ", " + std::to_string(kMaxRingsPerLane) + "]";
  if (g.ring_size < kMinRingSize || g.ring_size > kMaxRingSize || g.ring_size % kPageSize != 0)
    return "ring size " + std::to_string(g.ring_size) + " must be a multiple of " + std::to_string(kPageSize) +
           " within [" + std::to_string(kMinRingSize) + ", " + std::to_string(kMaxRingSize) + "]";
  if (g.max_message_size > kMaxMessageLen)
    return "max message size " + std::to_string(g.max_message_size) + " above " + std::to_string(kMaxMessageLen);
  // A record with a full name and a full message must fit a ring at least
  // four times over, so a ring swap happens at most once per quarter ring.
  if (static_cast<std::uint64_t>(record_size(kMaxNameLen, g.max_message_size)) * 4 > g.ring_size)
    return "max message size " + std::to_string(g.max_message_size) + " too large for ring size " +
           std::to_string(g.ring_size) + " (a record must fit four times)";
  return std::nullopt;
}

Layout compute_layout(const Geometry& g) noexcept {
  Layout l;
  l.geometry = g;
  l.lane_table_offset = kHeaderRegionSize;
  l.ring_header_offset = l.lane_table_offset + static_cast<std::uint64_t>(g.lane_count) * sizeof(LaneControl);
  const std::uint64_t rings = static_cast<std::uint64_t>(g.lane_count) * g.rings_per_lane;
  const std::uint64_t headers_end = l.ring_header_offset + rings * sizeof(RingHeader);
  l.ring_data_offset = (headers_end + kPageSize - 1) / kPageSize * kPageSize;
  l.segment_size = l.ring_data_offset + rings * g.ring_size;
  return l;
}

void init_segment(const SegmentRef& seg) {
  const Layout& l = seg.layout();
  const Geometry& g = l.geometry;
  SegmentHeader& h = seg.header();
  h.magic = kSegmentMagic;
  h.abi_version = kAbiVersion;
  h.header_size = kHeaderRegionSize;
  h.segment_size = l.segment_size;
  h.lane_count = g.lane_count;
  h.rings_per_lane = g.rings_per_lane;
  h.ring_size = g.ring_size;
  h.max_message_size = g.max_message_size;
  h.lane_table_offset = l.lane_table_offset;
  h.ring_header_offset = l.ring_header_offset;
  h.ring_data_offset = l.ring_data_offset;
  h.clock_source = static_cast<std::uint32_t>(ClockSource::monotonic);
  h.doorbell_armed.store(1, std::memory_order_relaxed);
  for (std::uint32_t lane = 0; lane < g.lane_count; ++lane) {
    LaneControl& lc = seg.lane(lane);
    lc.active_ring.store(kNoActiveRing, std::memory_order_relaxed);
    SpscProducer<std::uint32_t, kMaxRingsPerLane> free_q(&lc.free_queue);
    for (std::uint32_t r = 0; r < g.rings_per_lane; ++r) (void)free_q.try_push(r);
  }
}

}  // namespace preroll::shm
