// Test support: read one ring of a mapped segment the way the daemon does
// (extent checked, both parts of a wrapped ring, oldest first).
#pragma once

#include <catch2/catch.hpp>

#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/validate.hpp"

namespace preroll::test {

template <typename OnRecord>
shm::ParseResult read_ring(const shm::SegmentRef& seg, std::uint32_t lane, std::uint32_t ring, OnRecord&& on_record) {
  const auto& h = seg.ring_header(lane, ring);
  const auto committed = h.committed.load(std::memory_order_acquire);
  const auto extent = shm::checked_extent(h.start.load(), h.wrap_end.load(), committed,
                                          seg.layout().geometry.ring_size);
  REQUIRE(extent.has_value());
  return shm::parse_ring(seg.ring_data(lane, ring), *extent, seg.layout().geometry.max_message_size,
                         std::forward<OnRecord>(on_record));
}

}  // namespace preroll::test
