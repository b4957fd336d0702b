// Cost of one preroll emit of a 32-byte message, in ONE binary and run next
// to what it is judged against, so that ratios hold on a noisy machine:
//
//   BM_clock_gettime          bare clock_gettime(CLOCK_MONOTONIC) (vDSO)
//   BM_rdtsc                  bare __rdtsc()
//   BM_ideal_append_rdtsc     the floor: a 48-byte record (16-byte header +
//   BM_ideal_append_clock     32-byte message) appended to a private 64 KiB
//                             ring, timestamp from rdtsc / clock_gettime,
//                             position published with a release store
//   BM_preroll_emit_32        preroll_emit_n(INFO, no name, 32 bytes): the
//                             same 48-byte record (shm/event_record.hpp)
//   BM_lttng_tracepoint_32    an LTTng-UST tracepoint with one string field
//                             (only when built with lttng-ust; needs a
//                             session with 'preroll_bench:*' enabled, else it
//                             reports an error instead of timing a disabled
//                             tracepoint)
//   BM_preroll_swap_emit_32   the emit that fills a ring and swaps it, timed
//                             on its own (see the function's comment)
//
// Each runs with 1 and 2 threads (the swap one with 1). With 2 threads
// Google Benchmark reports real_time = wall time / (events of both threads)
// and cpu_time = each thread's CPU time / its own events, i.e. the
// per-thread cost. bench/run_emit_bench.sh runs it the way bench/RESULTS.md
// reports it (LTTng session, with and without prerolld, medians of
// repetitions); by hand:
//   build-bench/bench/bench_emit --benchmark_repetitions=10 --benchmark_display_aggregates_only=true
//
// Without a prerolld the client recycles nothing: once a lane's spare rings
// are used up every full ring is overwritten in place (the preroll counters
// reported with BM_preroll_* say how often: no_spare_pct). With PREROLL_SOCKET
// naming a running prerolld, rings are handed over and recycled.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PREROLL_BENCH_HAVE_RDTSC 1
#endif

#include "preroll/preroll.h"

#ifdef PREROLL_BENCH_LTTNG
#include "lttng_tp.h"
#endif

namespace {

const char kMessage[] = "0123456789abcdef0123456789abcdef";  // 32 bytes (+ NUL for LTTng's string field)
static_assert(sizeof kMessage == 33);
constexpr std::size_t kRecordSize = 48;       // record_size(0, 32) in shm/event_record.hpp
constexpr std::size_t kRingBytes = 64 * 1024;  // PREROLL_RING_SIZE default

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// ---------------------------------------------------------------- clocks

void BM_clock_gettime(benchmark::State& state) {
  for (auto _ : state) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_clock_gettime)->Threads(1)->Threads(2);

#ifdef PREROLL_BENCH_HAVE_RDTSC
void BM_rdtsc(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t t = __rdtsc();
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_rdtsc)->Threads(1)->Threads(2);
#endif

// ------------------------------------------------ ideal append (the floor)

// What an emit cannot do with less: take a timestamp, write a 16-byte header
// and the 32 message bytes at the ring's position, publish the new position
// with a release store (a plain store on x86), wrap at the end. No lane
// lookup, no signal guard, no length checks, no swap, memory private to the
// thread.
template <std::uint64_t (*Now)()>
void ideal_append(benchmark::State& state) {
  std::vector<unsigned char> ring(kRingBytes);
  std::atomic<std::uint32_t> committed{0};
  std::uint32_t pos = 0;
  for (auto _ : state) {
    if (pos + kRecordSize > ring.size()) pos = 0;
    const std::uint64_t t = Now();
    const std::uint64_t meta = 32u | (std::uint64_t{2} << 32);  // message_len, level
    unsigned char* p = ring.data() + pos;
    std::memcpy(p, &t, 8);
    std::memcpy(p + 8, &meta, 8);
    std::memcpy(p + 16, kMessage, 32);
    pos += kRecordSize;
    committed.store(pos, std::memory_order_release);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(committed);
}

#ifdef PREROLL_BENCH_HAVE_RDTSC
std::uint64_t now_rdtsc() { return __rdtsc(); }
void BM_ideal_append_rdtsc(benchmark::State& state) { ideal_append<now_rdtsc>(state); }
BENCHMARK(BM_ideal_append_rdtsc)->Threads(1)->Threads(2);
#endif

std::uint64_t now_clock() { return monotonic_ns(); }
void BM_ideal_append_clock(benchmark::State& state) { ideal_append<now_clock>(state); }
BENCHMARK(BM_ideal_append_clock)->Threads(1)->Threads(2);

// ------------------------------------------------------------------ preroll

preroll_counters read_counters() {
  preroll_counters c{};
  preroll_get_counters(&c);  // all zero before the first event of the process
  return c;
}

std::uint64_t swaps(const preroll_counters& c) { return c.ring_swaps + c.swaps_without_spare; }
std::uint64_t lost(const preroll_counters& c) {
  return c.events_dropped_nested + c.events_dropped_no_lane + c.events_dropped_disabled;
}

// Reports what the library did during a run (thread 0 only: the counters are
// the process's). Code before the timed loop runs before any thread of the
// run emits, code after it once they all stopped (Google Benchmark's
// start/stop barrier). A run during which events were dropped (no lane,
// capture disabled) measured the drop path, not an emit: it is an error.
void report_preroll(benchmark::State& state, const preroll_counters& before, double events) {
  const preroll_counters after = read_counters();
  const std::uint64_t s = swaps(after) - swaps(before);
  const std::uint64_t no_spare = after.swaps_without_spare - before.swaps_without_spare;
  const std::uint64_t dropped = lost(after) - lost(before);
  state.counters["ev_per_swap"] = s != 0 ? events / static_cast<double>(s) : 0.0;
  state.counters["no_spare_pct"] = s != 0 ? 100.0 * static_cast<double>(no_spare) / static_cast<double>(s) : 0.0;
  state.counters["daemon"] = after.daemon_connected;
  if (dropped != 0) {
    const std::string msg = std::to_string(dropped) + " events dropped (no lane / capture disabled): not an emit";
    state.SkipWithError(msg.c_str());
  }
}

void BM_preroll_emit_32(benchmark::State& state) {
  preroll_counters before{};
  if (state.thread_index() == 0) before = read_counters();
  for (auto _ : state) preroll_emit_n(PREROLL_INFO, nullptr, 0, kMessage, 32);
  if (state.thread_index() == 0)
    report_preroll(state, before, static_cast<double>(state.iterations()) * state.threads());
}
BENCHMARK(BM_preroll_emit_32)->Threads(1)->Threads(2);

// The ring swap, measured on its own. Each iteration writes exactly one
// ring's worth of events (the number is measured, not assumed: events
// between two swaps of this thread's lane) and times two of them
// individually with a clock_gettime pair: an ordinary emit in the middle of
// the ring and the emit that finds the ring full, swaps it and writes its
// event into the new ring. A swap either hands the ring over (a spare ring
// was in the free queue: submit, activate the spare, doorbell to the daemon =
// one sendmsg) or, with no spare (no daemon, or a daemon behind), overwrites
// the ring in place. The reported time is the swapping emit (manual time);
// counters:
//   plain_ns        the ordinary emit timed the same way (timer included)
//   swap_ns         swapping emit − plain emit: the extra cost of a swap,
//                   timer overhead cancelled, mean over all swaps
//   handover_ns     the same, mean over the swaps that handed the ring over
//   handover_p50_ns the same, median of those swaps (the mean is pulled up
//                   by the swaps during which the thread lost its CPU)
//   overwrite_ns    the same, mean over the swaps that overwrote in place
//                   (each 0 when no swap of that kind happened: see
//                   no_spare_pct)
//   ctxsw_per_swap  context switches of the emitting thread per iteration
//                   (getrusage: voluntary + involuntary), i.e. how often a
//                   swap, or anything else, took the CPU away from it
// The other events of the ring are written untimed, at full speed, so the
// swapping emit sees the caches as a real one does.
void BM_preroll_swap_emit_32(benchmark::State& state) {
  auto emit = [] { preroll_emit_n(PREROLL_INFO, nullptr, 0, kMessage, 32); };
  // Emits until one of them swaps; returns how many it took. Afterwards the
  // new ring holds exactly one event.
  auto emit_until_swap = [&](std::uint64_t limit) {
    const std::uint64_t s0 = swaps(read_counters());
    std::uint64_t n = 0;
    do {
      emit();
      ++n;
    } while (swaps(read_counters()) == s0 && n < limit);
    return n;
  };
  emit();  // claims the lane if this thread has none yet
  const std::uint64_t limit = 16 * kRingBytes;  // > events in any ring of PREROLL_RING_SIZE ≤ 1 MiB
  emit_until_swap(limit);
  const std::uint64_t per_ring = emit_until_swap(limit);  // events a ring holds, then one swaps
  if (per_ring < 4 || per_ring >= limit) {
    state.SkipWithError("could not observe ring swaps (capture disabled?)");
    return;
  }
  const preroll_counters before = read_counters();
  const std::uint64_t mid = per_ring / 2;
  double plain_total_ns = 0;
  double swap_total_ns = 0;
  double handover_total_ns = 0;
  double overwrite_total_ns = 0;
  std::uint64_t handovers = 0;
  std::uint64_t overwrites = 0;
  std::uint64_t no_spare_seen = before.swaps_without_spare;
  std::vector<double> handover_ns;
  handover_ns.reserve(static_cast<std::size_t>(state.max_iterations));
  rusage ru0{};
  getrusage(RUSAGE_THREAD, &ru0);
  for (auto _ : state) {
    // The ring holds 1 event: per_ring − 1 more fit, the next one swaps.
    for (std::uint64_t i = 1; i < per_ring; ++i) {
      if (i == mid) {
        const auto t0 = std::chrono::steady_clock::now();
        emit();
        const auto t1 = std::chrono::steady_clock::now();
        plain_total_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
      } else {
        emit();
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    emit();
    const auto t1 = std::chrono::steady_clock::now();
    const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    swap_total_ns += ns;
    state.SetIterationTime(ns * 1e-9);
    // Which kind of swap it was (untimed).
    const std::uint64_t no_spare = read_counters().swaps_without_spare;
    if (no_spare != no_spare_seen) {
      overwrite_total_ns += ns;
      ++overwrites;
    } else {
      handover_total_ns += ns;
      ++handovers;
      handover_ns.push_back(ns);
    }
    no_spare_seen = no_spare;
  }
  rusage ru1{};
  getrusage(RUSAGE_THREAD, &ru1);
  const double iters = static_cast<double>(state.iterations());
  state.counters["ctxsw_per_swap"] =
      static_cast<double>((ru1.ru_nvcsw - ru0.ru_nvcsw) + (ru1.ru_nivcsw - ru0.ru_nivcsw)) / iters;
  const double plain = plain_total_ns / iters;
  state.counters["plain_ns"] = plain;
  state.counters["swap_ns"] = swap_total_ns / iters - plain;
  state.counters["handover_ns"] = handovers != 0 ? handover_total_ns / static_cast<double>(handovers) - plain : 0.0;
  double p50 = 0;
  if (!handover_ns.empty()) {
    auto mid_it = handover_ns.begin() + static_cast<std::ptrdiff_t>(handover_ns.size() / 2);
    std::nth_element(handover_ns.begin(), mid_it, handover_ns.end());
    p50 = *mid_it - plain;
  }
  state.counters["handover_p50_ns"] = p50;
  state.counters["overwrite_ns"] = overwrites != 0 ? overwrite_total_ns / static_cast<double>(overwrites) - plain : 0.0;
  state.counters["ev_per_ring"] = static_cast<double>(per_ring);
  const preroll_counters after = read_counters();
  report_preroll(state, before, iters * static_cast<double>(per_ring));
  if (swaps(after) - swaps(before) != static_cast<std::uint64_t>(state.iterations())) {
    const std::string msg = "expected one swap per iteration, saw " + std::to_string(swaps(after) - swaps(before)) +
                            " in " + std::to_string(state.iterations());
    state.SkipWithError(msg.c_str());
  }
}
// Fixed iteration count: each iteration also writes a whole ring untimed
// (~1365 events), which the manual time does not see.
BENCHMARK(BM_preroll_swap_emit_32)->UseManualTime()->Iterations(20000);

// ------------------------------------------------------------------- LTTng

#ifdef PREROLL_BENCH_LTTNG
void BM_lttng_tracepoint_32(benchmark::State& state) {
  // Enabled only while a session daemon has the event enabled in a started
  // session (run_emit_bench.sh: snapshot mode). Timing the disabled
  // tracepoint (one predicted branch) would flatter LTTng: refuse.
  if (!lttng_ust_tracepoint_enabled(preroll_bench, msg)) {
    state.SkipWithError("tracepoint preroll_bench:msg not enabled: start an LTTng session (run_emit_bench.sh)");
    return;
  }
  for (auto _ : state) lttng_ust_tracepoint(preroll_bench, msg, kMessage);
}
BENCHMARK(BM_lttng_tracepoint_32)->Threads(1)->Threads(2);
#endif

}  // namespace

BENCHMARK_MAIN();
