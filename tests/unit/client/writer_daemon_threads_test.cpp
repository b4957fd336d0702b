// The client protocol across two threads of one process: a writer thread
// emits through the library while a "daemon" thread pops submitted rings,
// parses them and hands them back, as prerolld does. Run under TSan too
// (test_tsan), where both sides use the same mapping so every shared access
// is checked. Checks by checksum that every event written is read back or
// counted as overwritten, exactly.
#include <catch2/catch.hpp>
#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "preroll/preroll.h"
#include "preroll/shm/validate.hpp"
#include "ring_reader.hpp"
#include "runtime.hpp"

using namespace preroll;

TEST_CASE("writer and daemon threads: every event is read back or counted as overwritten") {
  ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
  ::setenv("PREROLL_RING_SIZE", "8192", 1);
  ::setenv("PREROLL_RINGS_PER_LANE", "4", 1);
  ::setenv("PREROLL_MAX_MESSAGE", "512", 1);
  constexpr std::uint64_t kEvents = 200'000;

  std::atomic<std::uint32_t> lane{~0u};
  std::atomic<bool> writer_done{false};
  std::uint64_t sum_written = 0;

  std::thread writer([&] {
    char msg[32];
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      const int n = std::snprintf(msg, sizeof msg, "%llu", static_cast<unsigned long long>(i));
      preroll_emit_n(PREROLL_INFO, "w", 1, msg, static_cast<std::size_t>(n));
      sum_written += i;
      if (i == 0) lane.store(client::this_thread_lane()->lane(), std::memory_order_release);
    }
    writer_done.store(true, std::memory_order_release);
    // The thread exits: its last ring is submitted and the lane retired.
  });

  while (lane.load(std::memory_order_acquire) == ~0u) std::this_thread::yield();
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  const auto& seg = rt->segment();
  const std::uint32_t l = lane.load();
  shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> submit(&seg.lane(l).submit_queue);
  shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> free_q(&seg.lane(l).free_queue);
  std::uint64_t read = 0, sum_read = 0;
  bool parse_ok = true;
  auto drain = [&] {
    std::uint32_t ring;
    bool any = false;
    while (submit.try_pop(ring) == shm::QueueStatus::ok) {
      any = true;
      const auto r = test::read_ring(seg, l, ring, [&](const shm::RecordView& v) {
        sum_read += std::stoull(std::string(v.message));
        ++read;
      });
      parse_ok = parse_ok && r.ok;
      REQUIRE(free_q.try_push(ring) == shm::QueueStatus::ok);
    }
    return any;
  };
  while (!writer_done.load(std::memory_order_acquire)) drain();
  writer.join();
  while (drain()) {
  }
  CHECK(parse_ok);
  CHECK(seg.lane(l).state.load() == static_cast<std::uint32_t>(shm::LaneState::retired));
  const std::uint64_t overwritten = seg.lane(l).events_overwritten.load();
  CHECK(read + overwritten == kEvents);
  if (overwritten == 0) CHECK(sum_read == sum_written);
  CHECK(read > 0);
}
