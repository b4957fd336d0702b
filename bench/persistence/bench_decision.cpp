// Decision time for a full ring: from the ring popped off the submit queue
// to persist/discard decided and the ring handed back (parse, marking pass
// over every event, selection, and for persisted windows the write into a
// sink that only counts). Reported as p50/p99 per ring with 16 trigger
// patterns, for the default 64 KiB ring and a 1 MiB ring. Run:
//   build/bench/persistence/bench_decision --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "client_segment.hpp"
#include "marking_policy.hpp"
#include "preroll/shm/event_record.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "tsc_clock.hpp"
#include "window_sink.hpp"

namespace {

using namespace preroll;

class CountingSink final : public daemon::WindowSink {
 public:
  bool persist(const atf::WindowMeta&, std::span<const atf::EventView> events) override {
    events_ += events.size();
    return true;
  }
  std::uint64_t events_ = 0;
};

struct Rig {
  explicit Rig(std::uint32_t ring_size) {
    shm::Geometry g;
    g.lane_count = 1;
    g.rings_per_lane = 4;
    g.ring_size = ring_size;
    layout = shm::compute_layout(g);
    fd = shm::create_sealed_memfd("bench", layout.segment_size);
    writer = shm::MappedSegment(fd.get(), layout.segment_size);
    seg = shm::SegmentRef(writer.data(), layout);
    shm::init_segment(seg);
    shm::MappedSegment daemon_map(fd.get(), layout.segment_size);
    auto snap = shm::snapshot_header(daemon_map.data(), daemon_map.size());
    client = std::make_unique<daemon::ClientSegment>(std::move(daemon_map), std::get<shm::HeaderSnapshot>(snap), 1);
    daemon::PolicyConfig pc;
    for (int i = 0; i < 16; ++i)
      pc.triggers.push_back({i % 2 ? "trigger-" + std::to_string(i) : "err(or)?-" + std::to_string(i) + "\\b",
                             i % 2 ? daemon::PatternKind::literal : daemon::PatternKind::regex, 1, 0});
    pc.pre_roll = 0;
    pc.post_roll = 0;
    policy = daemon::MarkingPolicy::build(pc);
    scratch = policy->matcher()->make_scratch();
  }

  // Client side: fills the next spare ring with log-like events (one in
  // `mark_every` windows carries a trigger) and submits it.
  void submit_full_ring(bool marked) {
    shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> fq(&seg.lane(0).free_queue);
    std::uint32_t ring = 0;
    if (fq.try_pop(ring) != shm::QueueStatus::ok) std::abort();
    unsigned char* data = seg.ring_data(0, ring);
    std::uint32_t pos = 0;
    char msg[96];
    for (std::uint64_t i = 0;; ++i) {
      const int n = std::snprintf(msg, sizeof msg, "GET /api/items/%llu status=200 latency_us=%llu%s",
                                  static_cast<unsigned long long>(rng() % 100000),
                                  static_cast<unsigned long long>(rng() % 5000),
                                  marked && i == 100 ? " trigger-7" : "");
      const std::uint32_t size = shm::record_size(4, static_cast<std::uint32_t>(n));
      if (pos + size > layout.geometry.ring_size) break;
      shm::write_record(data + pos, ++clock, 2, 0, "http", 4, msg, static_cast<std::uint16_t>(n));
      pos += size;
    }
    seg.ring_header(0, ring).committed.store(pos, std::memory_order_release);
    shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> sq(&seg.lane(0).submit_queue);
    if (sq.try_push(ring) != shm::QueueStatus::ok) std::abort();
  }

  shm::Layout layout;
  shm::UniqueFd fd;
  shm::MappedSegment writer;
  shm::SegmentRef seg;
  std::unique_ptr<daemon::ClientSegment> client;
  std::shared_ptr<const daemon::MarkingPolicy> policy;
  std::unique_ptr<daemon::PatternMatcher::Scratch> scratch;
  daemon::DaemonStats stats;
  daemon::TscClock tsc{1'000'000};
  CountingSink sink;
  std::mt19937_64 rng{42};
  std::uint64_t clock = 1;
};

void BM_decision_per_ring(benchmark::State& state) {
  Rig rig(static_cast<std::uint32_t>(state.range(0)));
  std::vector<double> us;
  std::uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    rig.submit_full_ring(n++ % 100 == 0);  // 1 marked window in 100
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    rig.client->drain(rig.sink, {*rig.policy, rig.scratch.get(), rig.stats, rig.tsc});
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["events_per_ring"] =
      static_cast<double>(rig.stats.events_seen.load()) / static_cast<double>(rig.stats.windows_seen.load());
}
BENCHMARK(BM_decision_per_ring)->Arg(64 * 1024)->Arg(1024 * 1024)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
