// Runtime checks of the ABI layout beyond the static_asserts in abi.hpp:
// computed geometry, region alignment, and the all-zero-is-empty rule.
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <vector>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/segment_layout.hpp"

using namespace preroll::shm;

TEST_CASE("default geometry is valid and regions are aligned and disjoint") {
  Geometry g;
  REQUIRE_FALSE(check_geometry(g).has_value());
  const Layout l = compute_layout(g);
  CHECK(l.lane_table_offset == kHeaderRegionSize);
  CHECK(l.ring_header_offset == l.lane_table_offset + g.lane_count * sizeof(LaneControl));
  CHECK(l.ring_data_offset % kPageSize == 0);
  CHECK(l.ring_data_offset >= l.ring_header_offset + std::uint64_t{g.lane_count} * g.rings_per_lane * sizeof(RingHeader));
  CHECK(l.segment_size == l.ring_data_offset + std::uint64_t{g.lane_count} * g.rings_per_lane * g.ring_size);
}

TEST_CASE("geometry outside the ABI bounds is refused with a reason") {
  Geometry g;
  g.ring_size = 5000;  // not a page multiple
  CHECK(check_geometry(g).has_value());
  g = Geometry{};
  g.rings_per_lane = kMaxRingsPerLane + 1;
  CHECK(check_geometry(g).has_value());
  g = Geometry{};
  g.rings_per_lane = 1;
  CHECK(check_geometry(g).has_value());
  g = Geometry{};
  g.lane_count = 0;
  CHECK(check_geometry(g).has_value());
  g = Geometry{};
  g.ring_size = 4096;
  g.max_message_size = 4096;  // a record would not fit four times
  auto err = check_geometry(g);
  REQUIRE(err.has_value());
  CHECK(err->find("too large") != std::string::npos);
}

TEST_CASE("segment ref addresses every lane, ring header and ring inside the segment") {
  Geometry g;
  g.lane_count = 3;
  g.rings_per_lane = 4;
  g.ring_size = 8192;
  const Layout l = compute_layout(g);
  std::vector<unsigned char> mem(l.segment_size);
  SegmentRef seg(mem.data(), l);
  unsigned char* const end = mem.data() + mem.size();
  for (std::uint32_t lane = 0; lane < g.lane_count; ++lane) {
    auto* lc = reinterpret_cast<unsigned char*>(&seg.lane(lane));
    CHECK(lc + sizeof(LaneControl) <= mem.data() + l.ring_header_offset);
    for (std::uint32_t r = 0; r < g.rings_per_lane; ++r) {
      auto* rh = reinterpret_cast<unsigned char*>(&seg.ring_header(lane, r));
      CHECK(rh + sizeof(RingHeader) <= mem.data() + l.ring_data_offset);
      CHECK(seg.ring_data(lane, r) + g.ring_size <= end);
      CHECK((seg.ring_data(lane, r) - mem.data()) % kPageSize == 0);
    }
  }
  // Two different rings never share bytes.
  CHECK(seg.ring_data(0, 1) - seg.ring_data(0, 0) == g.ring_size);
  CHECK(seg.ring_data(1, 0) - seg.ring_data(0, 0) == std::int64_t{g.rings_per_lane} * g.ring_size);
}

TEST_CASE("zeroed memory reads as free lanes, free rings and empty queues") {
  auto lane = std::make_unique<LaneControl>();
  std::memset(static_cast<void*>(lane.get()), 0, sizeof(LaneControl));
  CHECK(lane->state.load() == static_cast<std::uint32_t>(LaneState::free));
  CHECK(lane->submit_queue.head.load() == lane->submit_queue.tail.load());
  CHECK(lane->free_queue.head.load() == lane->free_queue.tail.load());
  RingHeader rh;
  std::memset(static_cast<void*>(&rh), 0, sizeof rh);
  CHECK(rh.state.load() == static_cast<std::uint32_t>(RingState::free));
  CHECK(rh.committed.load() == 0);
}
