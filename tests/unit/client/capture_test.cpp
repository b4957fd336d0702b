// The client library without a daemon: capture starts at the first event,
// rings are handed over when full, and with no spare ring the oldest events
// are overwritten and counted exactly. The test plays the daemon's part on
// the queues in-process, reading rings with the daemon's own parser.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "preroll/preroll.h"
#include "preroll/shm/validate.hpp"
#include "ring_reader.hpp"
#include "runtime.hpp"

using namespace preroll;

namespace {
void small_rings_no_daemon() {
  ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
  ::setenv("PREROLL_RING_SIZE", "8192", 1);
  ::setenv("PREROLL_RINGS_PER_LANE", "4", 1);
  ::setenv("PREROLL_LANES", "8", 1);
  ::setenv("PREROLL_MAX_MESSAGE", "1024", 1);
}

// Pops every submitted ring of `lane`, counts its events, and returns it.
std::uint64_t consume_lane(const shm::SegmentRef& seg, std::uint32_t lane) {
  shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> submit(&seg.lane(lane).submit_queue);
  shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> free_q(&seg.lane(lane).free_queue);
  std::uint64_t events = 0;
  std::uint32_t ring;
  while (submit.try_pop(ring) == shm::QueueStatus::ok) {
    const auto r = test::read_ring(seg, lane, ring, [](const shm::RecordView&) {});
    REQUIRE(r.ok);
    events += r.records;
    REQUIRE(free_q.try_push(ring) == shm::QueueStatus::ok);
  }
  return events;
}
}  // namespace

TEST_CASE("capture starts at the first event without a daemon") {
  small_rings_no_daemon();
  preroll_emit(PREROLL_INFO, "test", "first event");
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  preroll_counters c{};
  REQUIRE(preroll_get_counters(&c) == 0);
  CHECK(c.lanes_in_use == 1);
  CHECK(c.daemon_connected == 0);
  const auto& seg = rt->segment();
  CHECK(seg.header().magic == shm::kSegmentMagic);
  const auto lane = client::this_thread_lane()->lane();
  const auto active = seg.lane(lane).active_ring.load();
  REQUIRE(active < 4);
  CHECK(seg.ring_header(lane, active).committed.load() == shm::record_size(4, 11));
}

TEST_CASE("full rings are handed over and every event is either read back or counted as overwritten") {
  small_rings_no_daemon();
  const std::string msg(100, 'x');
  const int kEvents = 5000;  // ~64 rings of 8 KiB: many swaps, and overwrites once spares run out
  for (int i = 0; i < kEvents; ++i) preroll_emit(PREROLL_INFO, "t", msg.c_str());
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  const auto lane = client::this_thread_lane()->lane();
  // Drain what was submitted (giving the rings back as spares), then flush
  // the partial ring, which needs a spare, and drain again.
  std::uint64_t read = consume_lane(rt->segment(), lane);
  preroll_flush();
  read += consume_lane(rt->segment(), lane);
  preroll_counters c{};
  preroll_get_counters(&c);
  // Without a daemon, the submit queue holds the first rings and the lane
  // overwrites its active ring once the spares are gone.
  CHECK(c.swaps_without_spare > 0);
  CHECK(c.events_written == static_cast<std::uint64_t>(kEvents));
  CHECK(read + c.events_overwritten == static_cast<std::uint64_t>(kEvents));
}

TEST_CASE("a message over the limit is truncated, flagged and counted") {
  small_rings_no_daemon();
  const std::string big(3000, 'y');
  preroll_emit(PREROLL_WARN, "t", big.c_str());
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  const auto lane = client::this_thread_lane()->lane();
  const auto& seg = rt->segment();
  const auto ring = seg.lane(lane).active_ring.load();
  std::uint32_t flags = 0, len = 0;
  test::read_ring(seg, lane, ring, [&](const shm::RecordView& v) {
    flags = v.flags;
    len = static_cast<std::uint32_t>(v.message.size());
  });
  CHECK(len == 1024);
  CHECK((flags & shm::event_flag::truncated) != 0);
  preroll_flush();
  preroll_counters c{};
  preroll_get_counters(&c);
  CHECK(c.events_truncated == 1);
}

TEST_CASE("a thread's lane is retired at thread exit with its last ring submitted") {
  small_rings_no_daemon();
  preroll_emit(PREROLL_INFO, "main", "m");  // main thread takes a lane first
  std::uint32_t worker_lane = 0;
  std::thread([&] {
    preroll_emit(PREROLL_INFO, "worker", "w1");
    preroll_emit(PREROLL_INFO, "worker", "w2");
    worker_lane = client::this_thread_lane()->lane();
  }).join();
  auto* rt = client::Runtime::peek();
  const auto& seg = rt->segment();
  CHECK(seg.lane(worker_lane).state.load() == static_cast<std::uint32_t>(shm::LaneState::retired));
  CHECK(seg.lane(worker_lane).active_ring.load() == shm::kNoActiveRing);
  CHECK(consume_lane(seg, worker_lane) == 2);
}

TEST_CASE("more threads than lanes: the extra events are dropped and counted, nothing blocks") {
  small_rings_no_daemon();
  ::setenv("PREROLL_LANES", "2", 1);
  std::vector<std::thread> threads;
  std::atomic<int> go{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      preroll_emit(PREROLL_INFO, "t", "claim");
      ++go;
      while (go.load() < 4) std::this_thread::yield();  // keep the lanes taken until all tried
    });
  for (auto& t : threads) t.join();
  preroll_counters c{};
  preroll_get_counters(&c);
  CHECK(c.events_dropped_no_lane == 2);
}

TEST_CASE("with no spare ring the lane keeps the most recent events, oldest evicted first and counted") {
  small_rings_no_daemon();
  constexpr int kEvents = 5000;
  char msg[32];
  for (int i = 0; i < kEvents; ++i) {
    const int n = std::snprintf(msg, sizeof msg, "%08d", i);
    preroll_emit_n(PREROLL_INFO, "seq", 3, msg, static_cast<std::size_t>(n));
  }
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  const auto& seg = rt->segment();
  const auto lane = client::this_thread_lane()->lane();
  const auto ring = seg.lane(lane).active_ring.load();
  std::vector<int> seqs;
  const auto r = test::read_ring(seg, lane, ring, [&](const shm::RecordView& v) {
    seqs.push_back(std::stoi(std::string(v.message)));
  });
  REQUIRE(r.ok);
  REQUIRE_FALSE(seqs.empty());
  // A contiguous run ending with the newest event: nothing in between lost.
  CHECK(seqs.back() == kEvents - 1);
  for (std::size_t i = 1; i < seqs.size(); ++i) REQUIRE(seqs[i] == seqs[i - 1] + 1);
  // At least 7/8 of the 8 KiB ring holds history (records are 32 bytes).
  CHECK(seqs.size() >= 8192 * 7 / 8 / 32);
  preroll_counters c{};
  preroll_get_counters(&c);
  CHECK(c.events_overwritten > 0);
}
