// Write throughput of prerolld's storage path (FileStore: ATF encoding,
// compression, write(2), rotation, quota, fsync), for every --compress and
// --fsync choice side by side in one process.
//
// Each iteration writes one window the size of a default ring (64 KiB of
// events) of log-like text: fixed templates with varying numbers, ids and
// durations, like a service's logs. Wall time (UseRealTime): fdatasync
// blocks without using CPU.
//
// Counters: bytes_per_second = event bytes before compression; windows/s;
// file_MBps = bytes reaching the file; ratio = file bytes / event bytes.
// The output directory is $PREROLL_BENCH_DIR (default /var/tmp), which must
// be a real disk for the fsync figures to mean anything (not tmpfs).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "storage/file_store.hpp"

namespace pd = preroll::daemon;
namespace atf = preroll::atf;

namespace {

constexpr std::size_t kWindowBytes = 64 * 1024;

// Windows of log-like events, built once; a benchmark cycles through them.
struct Corpus {
  std::vector<std::string> texts;  // owns the messages
  struct Window {
    atf::WindowMeta meta;
    std::vector<atf::EventView> events;
    std::uint64_t raw = 0;
  };
  std::vector<Window> windows;

  Corpus() {
    static const char* const templates[] = {
        "GET /api/v1/items/%u status=200 bytes=%u dur_ms=%u.%03u user=%08x",
        "cache miss key=session:%08x:%u shard=%u latency_us=%u",
        "db query id=%u rows=%u took %u.%03u ms (pool %u/32)",
        "worker %u picked job %08x%08x attempt=%u queue_depth=%u",
        "POST /api/v1/orders status=201 order=%u amount=%u.%02u currency=EUR dur_ms=%u",
        "retrying upstream call to payments-%u after %u ms (attempt %u of 5)",
    };
    std::mt19937 rng(42);
    std::uint64_t ts = 1'000'000'000;
    for (int w = 0; w < 64; ++w) {
      Window win;
      std::size_t bytes = 0;
      std::size_t first_text = texts.size();
      while (bytes < kWindowBytes) {
        char line[256];
        const int n = std::snprintf(line, sizeof line, templates[rng() % 6], rng() % 100000, rng() % 65536,
                                    rng() % 1000, rng() % 1000, rng());
        texts.emplace_back(line, static_cast<std::size_t>(n));
        bytes += 16 + 16 + static_cast<std::size_t>(n);  // the ring's record header + name, roughly
      }
      for (std::size_t i = first_text; i < texts.size(); ++i) {
        ts += 1000 + rng() % 5000;
        atf::EventView e;
        e.timestamp_ns = ts;
        e.level = static_cast<std::uint8_t>(rng() % 16 == 0 ? 3 : 2);
        e.name = "http";
        win.raw += 16 + e.name.size() + texts[i].size();
        win.events.push_back(e);
      }
      win.meta.event_count = static_cast<std::uint32_t>(win.events.size());
      win.meta.reason = atf::KeepReason::marked;
      windows.push_back(std::move(win));
    }
    // Views are set once texts no longer reallocates.
    std::size_t t = 0;
    for (Window& win : windows)
      for (atf::EventView& e : win.events) e.message = texts[t++];
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

std::filesystem::path bench_dir() {
  const char* env = std::getenv("PREROLL_BENCH_DIR");
  std::filesystem::path base = env != nullptr ? env : "/var/tmp";
  return base / ("preroll-bench-storage-" + std::to_string(::getpid()));
}

void BM_store_window(benchmark::State& state) {
  const int level = static_cast<int>(state.range(0));
  const auto compression = level == 0 ? atf::Compression::none : atf::Compression::zstd;
  const auto fsync = static_cast<pd::FsyncPolicy>(state.range(1));
  const std::filesystem::path dir = bench_dir();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  state.SetLabel((level == 0 ? std::string("none") : "zstd-" + std::to_string(level)) + ", fsync " +
                 std::string(pd::to_string(fsync)));
  {
    pd::DaemonStats stats;
    pd::StorageConfig cfg;  // the daemon's defaults but for the two under test
    cfg.compression = compression;
    cfg.zstd_level = level == 0 ? cfg.zstd_level : level;
    cfg.fsync = fsync;
    cfg.max_disk_usage = 1ull << 30;  // bounded disk use; deletions are part of the cost
    pd::FileStore store(dir, cfg, stats);
    atf::FileHeader header;
    header.process_name = "bench";
    auto stream = store.open_stream("bench-1-20260101T000000Z", header, "bench");
    const Corpus& c = corpus();
    const auto interval = store.sync_interval();
    auto next_sync = std::chrono::steady_clock::now() + interval.value_or(std::chrono::hours(1));
    std::size_t i = 0;
    std::uint64_t raw = 0;
    for (auto _ : state) {
      const Corpus::Window& w = c.windows[i++ % c.windows.size()];
      if (!store.append(*stream, w.meta, w.events)) state.SkipWithError("append failed");
      raw += w.raw;
      // The persistence worker's periodic sync (--fsync interval).
      if (interval && std::chrono::steady_clock::now() >= next_sync) {
        store.sync_dirty();
        next_sync = std::chrono::steady_clock::now() + *interval;
      }
    }
    store.close(*stream);
    state.SetBytesProcessed(static_cast<std::int64_t>(raw));
    state.SetItemsProcessed(state.iterations());
    state.counters["file_MBps"] = benchmark::Counter(static_cast<double>(stats.file_bytes_written) / 1e6,
                                                     benchmark::Counter::kIsRate);
    state.counters["ratio"] = raw == 0 ? 0.0 : static_cast<double>(stats.file_bytes_written) / static_cast<double>(raw);
    state.counters["fsyncs"] = static_cast<double>(stats.fsyncs);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

// compression (0 none, else the zstd level) x fsync (0 window, 1 interval, 2 never).
BENCHMARK(BM_store_window)
    ->ArgsProduct({{0, 1, 3}, {0, 1, 2}})
    ->ArgNames({"zstd", "fsync"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
