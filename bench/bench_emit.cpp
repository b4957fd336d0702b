// Cost of one emit for a 32-byte message, against a bare clock read and an
// ideal 48-byte append into an in-process ring (the floor). Run:
//   build/bench/bench_emit --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// (no daemon needed: rings are handed over and reused without one only until
// the spares run out; PREROLL_SOCKET may point to a running prerolld).
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstring>
#include <vector>

#include "preroll/preroll.h"

namespace {
const char kMessage[] = "0123456789abcdef0123456789abcdef";  // 32 bytes

void BM_clock_gettime(benchmark::State& state) {
  for (auto _ : state) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_clock_gettime)->Threads(1)->Threads(2);

void BM_ideal_append_48(benchmark::State& state) {
  std::vector<unsigned char> ring(64 * 1024);
  std::size_t pos = 0;
  for (auto _ : state) {
    if (pos + 48 > ring.size()) pos = 0;
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const std::uint64_t t = static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
    std::memcpy(&ring[pos], &t, 8);
    std::memset(&ring[pos + 8], 0, 8);
    std::memcpy(&ring[pos + 16], kMessage, 32);
    pos += 48;
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_ideal_append_48)->Threads(1)->Threads(2);

void BM_preroll_emit_32(benchmark::State& state) {
  for (auto _ : state) preroll_emit_n(PREROLL_INFO, nullptr, 0, kMessage, 32);
}
BENCHMARK(BM_preroll_emit_32)->Threads(1)->Threads(2);
}  // namespace

BENCHMARK_MAIN();
