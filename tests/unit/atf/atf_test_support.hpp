// Helpers shared by the ATF tests: temporary directories, sample windows with
// awkward bytes, whole-file read and write, and a record encoder written from
// docs/atf.md independently of the library's own.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>
#include <xxhash.h>

#include "preroll/atf/reader.hpp"
#include "preroll/atf/writer.hpp"

namespace atf_test {

namespace fs = std::filesystem;
using namespace preroll::atf;

class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    path_ = fs::temp_directory_path() / ("preroll-atf-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++) + "-" + std::to_string(entropy()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] fs::path file(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline FileHeader sample_header() {
  FileHeader h;
  h.preroll_version = "0.1.0-test";
  h.host_name = "build-host.example";
  h.boot_id = "4f3c2a1e-0000-4b7d-9a52-1234567890ab";
  h.pid = 4242;
  h.uid = 1000;
  h.process_name = "sample-app";
  h.command_line = "sample-app --flag \"quoted arg\" tab\there";
  h.process_start_ns = 123'456'789'000ULL;
  h.clock_realtime_ns = 1'700'000'000'123'456'789LL;
  h.clock_monotonic_ns = 98'765'432'100LL;
  h.policy_json = R"({"marking":true,"level":"warn","patterns":[{"literal":"boom"},{"regex":"fail(ed)?"}]})";
  h.file_sequence = 3;
  return h;
}

// A window that owns its events' bytes; views() gives what Writer takes.
struct SampleWindow {
  WindowMeta meta;
  std::vector<StoredEvent> events;

  [[nodiscard]] std::vector<EventView> views() const {
    std::vector<EventView> out;
    for (const StoredEvent& e : events) out.push_back({e.timestamp_ns, e.level, e.kind, e.flags, e.name, e.message, e.pattern});
    return out;
  }
};

// Deterministic window `id` with `n` events whose texts include NUL, 0xFF
// and empty strings.
inline SampleWindow make_window(std::uint64_t id, std::size_t n) {
  SampleWindow w;
  std::mt19937_64 rng(id * 7919 + n);
  for (std::size_t i = 0; i < n; ++i) {
    StoredEvent e;
    e.timestamp_ns = 1'000'000'000ULL * (id + 1) + i * 1000;
    e.level = static_cast<std::uint8_t>(i % 7);
    e.kind = static_cast<std::uint8_t>(i % 2);
    e.flags = static_cast<std::uint8_t>(i % 3 == 0 ? event_flags::client_marked : 0);
    e.pattern = static_cast<std::uint16_t>(i % 6 == 0 ? 1 + i % 2 : 0);
    e.name = i % 4 == 0 ? std::string() : "event." + std::to_string(i);
    e.message = "msg " + std::to_string(rng() % 100000);
    e.message += std::string("\0\xff", 2);
    if (i % 5 == 0) e.message.clear();
    w.events.push_back(e);
  }
  w.meta.window_id = id;
  w.meta.lane = static_cast<std::uint32_t>(id % 4);
  w.meta.tid = 10'000 + static_cast<std::uint32_t>(id);
  w.meta.ring_sequence = id * 3 + 1;
  w.meta.reason = id % 2 == 0 ? KeepReason::marked : KeepReason::pre_roll;
  w.meta.start_ns = n > 0 ? w.events.front().timestamp_ns : 0;
  w.meta.end_ns = n > 0 ? w.events.back().timestamp_ns : 0;
  w.meta.first_marked_ns = w.meta.start_ns;
  w.meta.event_count = static_cast<std::uint32_t>(n);
  w.meta.marked_count = static_cast<std::uint32_t>((n + 2) / 3);
  w.meta.lost_events_before = id * 11;
  w.meta.lost_bytes_before = id * 1024;
  if (id % 2 == 0) w.meta.patterns = {{0, 2}, {1, static_cast<std::uint32_t>(id + 1)}};
  return w;
}

inline void check_event(const StoredEvent& got, const StoredEvent& want) {
  CHECK(got.timestamp_ns == want.timestamp_ns);
  CHECK(got.level == want.level);
  CHECK(got.kind == want.kind);
  CHECK(got.flags == want.flags);
  CHECK(got.pattern == want.pattern);
  CHECK(got.name == want.name);
  CHECK(got.message == want.message);
}

inline void check_window(const ReadWindow& got, const SampleWindow& want) {
  CHECK(got.meta == want.meta);
  REQUIRE(got.events.size() == want.events.size());
  for (std::size_t i = 0; i < got.events.size(); ++i) check_event(got.events[i], want.events[i]);
}

// Offsets where the file is whole: after the header, after each window and,
// when closed, after the end record (the file size).
struct WrittenFile {
  std::uint64_t header_end = 0;
  std::vector<std::uint64_t> window_ends;
  std::uint64_t size = 0;
};

inline WrittenFile write_file(const fs::path& path, const std::vector<SampleWindow>& windows,
                              const WriterOptions& options = {}) {
  WrittenFile out;
  auto writer = Writer::create(path, sample_header(), options);
  out.header_end = writer->bytes_written();
  for (const SampleWindow& w : windows) {
    const auto views = w.views();
    writer->append_window(w.meta, views);
    out.window_ends.push_back(writer->bytes_written());
  }
  writer->close();
  out.size = fs::file_size(path);
  return out;
}

// Where the last window ends: cutting the file there drops the end record.
inline std::uint64_t last_window_end(const WrittenFile& f) {
  return f.window_ends.empty() ? f.header_end : f.window_ends.back();
}

inline std::vector<ReadWindow> read_all(const fs::path& path, ReadStatus& status) {
  auto reader = Reader::open(path);
  std::vector<ReadWindow> out;
  ReadWindow w;
  while (reader->next(w)) out.push_back(w);
  status = reader->status();
  return out;
}

inline std::vector<std::uint8_t> load_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void save_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void put_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// One record as docs/atf.md describes it, from scratch.
inline std::vector<std::uint8_t> encode_record(std::uint16_t type, std::uint16_t flags,
                                               const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  const std::uint64_t length = payload.size();
  const std::uint64_t seed = type | static_cast<std::uint64_t>(flags) << 16 | length << 32;
  put_le(out, type, 2);
  put_le(out, flags, 2);
  put_le(out, length, 4);
  put_le(out, XXH3_64bits_withSeed(payload.data(), payload.size(), seed), 8);
  out.insert(out.end(), payload.begin(), payload.end());
  while (out.size() % 8 != 0) out.push_back(0);
  return out;
}

}  // namespace atf_test
