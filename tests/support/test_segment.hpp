// Test support: a real sealed memfd segment written from the test (playing
// the client through the shm primitives) and attached to a ClientSegment
// (the daemon's view), with a sink that captures windows in memory.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "client_segment.hpp"
#include "preroll/shm/event_record.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "tsc_clock.hpp"
#include "window_sink.hpp"

namespace preroll::test {

struct CapturedWindow {
  atf::WindowMeta meta;
  std::vector<std::string> messages;
  std::vector<std::uint8_t> flags;
};

class FakeSink final : public daemon::WindowSink {
 public:
  bool persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) override {
    if (fail_next) {
      fail_next = false;
      return false;
    }
    CapturedWindow w;
    w.meta = meta;
    for (const auto& e : events) {
      w.messages.emplace_back(e.message);
      w.flags.push_back(e.flags);
    }
    windows.push_back(std::move(w));
    return true;
  }
  std::vector<CapturedWindow> windows;
  bool fail_next = false;
};

struct TestEvent {
  std::string message;
  std::uint8_t level = 2;
  std::uint8_t flags = 0;
  std::string name = "t";
  std::uint64_t timestamp = 0;  // 0: consecutive timestamps
};

class TestSegment {
 public:
  explicit TestSegment(shm::Geometry g = small_geometry()) : layout_(shm::compute_layout(g)) {
    fd_ = shm::create_sealed_memfd("test-segment", layout_.segment_size);
    writer_map_ = shm::MappedSegment(fd_.get(), layout_.segment_size);
    seg_ = shm::SegmentRef(writer_map_.data(), layout_);
    shm::init_segment(seg_);
    std::strcpy(seg_.header().process_name, "test");
  }

  static shm::Geometry small_geometry() {
    shm::Geometry g;
    g.lane_count = 2;
    g.rings_per_lane = 4;
    g.ring_size = 8192;
    g.max_message_size = 1024;
    return g;
  }

  // The daemon's side: a second mapping of the same memory.
  std::unique_ptr<daemon::ClientSegment> attach(std::uint32_t pid = 4242) {
    shm::MappedSegment m(fd_.get(), layout_.segment_size);
    auto snap = shm::snapshot_header(m.data(), m.size());
    REQUIRE(std::holds_alternative<shm::HeaderSnapshot>(snap));
    return std::make_unique<daemon::ClientSegment>(std::move(m), std::get<shm::HeaderSnapshot>(snap), pid);
  }

  // Client side: takes a spare ring for `lane`, fills it with `events`, submits it.
  std::uint32_t submit_window(std::uint32_t lane, const std::vector<TestEvent>& events) {
    shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> fq(&seg_.lane(lane).free_queue);
    std::uint32_t ring = 0;
    REQUIRE(fq.try_pop(ring) == shm::QueueStatus::ok);
    fill(lane, ring, events);
    shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> sq(&seg_.lane(lane).submit_queue);
    seg_.ring_header(lane, ring).state.store(static_cast<std::uint32_t>(shm::RingState::submitted));
    REQUIRE(sq.try_push(ring) == shm::QueueStatus::ok);
    return ring;
  }

  // Client side: makes `events` the committed part of an active ring.
  std::uint32_t activate_with(std::uint32_t lane, const std::vector<TestEvent>& events) {
    shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> fq(&seg_.lane(lane).free_queue);
    std::uint32_t ring = 0;
    REQUIRE(fq.try_pop(ring) == shm::QueueStatus::ok);
    fill(lane, ring, events);
    seg_.ring_header(lane, ring).state.store(static_cast<std::uint32_t>(shm::RingState::active));
    seg_.lane(lane).active_ring.store(ring);
    seg_.lane(lane).state.store(static_cast<std::uint32_t>(shm::LaneState::active));
    return ring;
  }

  // Client side: adds events after the active ring's committed part.
  void append_active(std::uint32_t lane, const std::vector<TestEvent>& events) {
    const std::uint32_t ring = seg_.lane(lane).active_ring.load();
    auto& h = seg_.ring_header(lane, ring);
    std::uint32_t pos = h.committed.load();
    for (const auto& e : events) {
      const auto size = shm::record_size(static_cast<std::uint32_t>(e.name.size()),
                                         static_cast<std::uint32_t>(e.message.size()));
      REQUIRE(pos + size <= layout_.geometry.ring_size);
      shm::write_record(seg_.ring_data(lane, ring) + pos, ++clock_, e.level, e.flags, e.name.data(),
                        static_cast<std::uint8_t>(e.name.size()), e.message.data(),
                        static_cast<std::uint16_t>(e.message.size()));
      pos += size;
    }
    h.committed.store(pos, std::memory_order_release);
  }

  // Client side: hands the active ring over (as a full ring would be).
  void submit_active(std::uint32_t lane) {
    const std::uint32_t ring = seg_.lane(lane).active_ring.load();
    shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> sq(&seg_.lane(lane).submit_queue);
    seg_.ring_header(lane, ring).state.store(static_cast<std::uint32_t>(shm::RingState::submitted));
    seg_.lane(lane).active_ring.store(shm::kNoActiveRing);
    REQUIRE(sq.try_push(ring) == shm::QueueStatus::ok);
  }

  [[nodiscard]] const shm::SegmentRef& ref() const { return seg_; }

 private:
  void fill(std::uint32_t lane, std::uint32_t ring, const std::vector<TestEvent>& events) {
    unsigned char* data = seg_.ring_data(lane, ring);
    std::uint32_t pos = 0;
    for (const auto& e : events) {
      const auto size = shm::record_size(static_cast<std::uint32_t>(e.name.size()),
                                         static_cast<std::uint32_t>(e.message.size()));
      REQUIRE(pos + size <= layout_.geometry.ring_size);
      shm::write_record(data + pos, e.timestamp != 0 ? e.timestamp : ++clock_, e.level, e.flags, e.name.data(),
                        static_cast<std::uint8_t>(e.name.size()), e.message.data(),
                        static_cast<std::uint16_t>(e.message.size()));
      if (e.timestamp != 0) clock_ = e.timestamp;
      pos += size;
    }
    auto& h = seg_.ring_header(lane, ring);
    h.committed.store(pos, std::memory_order_release);
    h.start.store(0);
    h.wrap_end.store(0);
    h.sequence.store(sequence_++);
  }

  shm::Layout layout_;
  shm::UniqueFd fd_;
  shm::MappedSegment writer_map_;
  shm::SegmentRef seg_;
  std::uint64_t clock_ = 1000;
  std::uint64_t sequence_ = 0;
};

// What a drain needs, owned together.
struct DrainHarness {
  explicit DrainHarness(std::shared_ptr<const daemon::MarkingPolicy> p)
      : policy(std::move(p)), scratch(policy->matcher() ? policy->matcher()->make_scratch() : nullptr),
        clock(1'000'000) {}
  daemon::DrainContext ctx() { return {*policy, scratch.get(), stats, clock}; }
  std::shared_ptr<const daemon::MarkingPolicy> policy;
  std::unique_ptr<daemon::PatternMatcher::Scratch> scratch;
  daemon::DaemonStats stats;
  daemon::TscClock clock;
};

}  // namespace preroll::test
