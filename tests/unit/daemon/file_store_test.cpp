// FileStore: file names and numbering, rotation, the quota's deletion order
// (earlier files first, never a file being written), and the storage
// options' parsing.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "preroll/atf/reader.hpp"
#include "process.hpp"
#include "storage/file_store.hpp"
#include "store_window.hpp"

namespace pd = preroll::daemon;
namespace atf = preroll::atf;
namespace fs = std::filesystem;
using preroll::test::StoreWindow;

namespace {

atf::FileHeader header(std::uint32_t pid) {
  atf::FileHeader h;
  h.pid = pid;
  h.process_name = "app";
  return h;
}

void make_old_file(const fs::path& path, std::size_t bytes, time_t mtime) {
  std::ofstream(path, std::ios::binary) << std::string(bytes, 'o');
  const timeval times[2] = {{mtime, 0}, {mtime, 0}};
  REQUIRE(::utimes(path.c_str(), times) == 0);
}

std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("file store: numbered files, rotation before the size limit, header sequence", "[storage]") {
  preroll::test::TempDir dir;
  pd::DaemonStats stats;
  pd::StorageConfig cfg;
  cfg.max_file_size = 64 * 1024;
  cfg.max_disk_usage = 0;
  cfg.compression = atf::Compression::none;
  pd::FileStore store(dir.path(), cfg, stats);
  auto stream = store.open_stream("app-7-20260101T000000Z", header(7), "pid 7 (app)");
  const StoreWindow w(10, 1000);  // ~10 KiB
  for (int i = 0; i < 20; ++i) REQUIRE(store.append(*stream, w.meta, w.events));
  store.close(*stream);
  const auto files = names(dir.path());
  REQUIRE(files.size() == 4);  // 6 windows a file
  CHECK(files[0] == "app-7-20260101T000000Z-000.atf");
  CHECK(files[3] == "app-7-20260101T000000Z-003.atf");
  CHECK(stats.files_rotated == 3);
  std::uint64_t windows = 0;
  for (std::uint32_t i = 0; i < files.size(); ++i) {
    const fs::path p = dir.path() / files[i];
    CHECK(fs::file_size(p) <= cfg.max_file_size);
    auto r = atf::Reader::open(p);
    CHECK(r->header().file_sequence == i);
    atf::ReadWindow rw;
    std::uint64_t id = 0;
    while (r->next(rw)) CHECK(rw.meta.window_id == id++);  // ids restart in every file
    CHECK(r->status().reason == atf::StopReason::clean_end);
    windows += id;
  }
  CHECK(windows == 20);
  std::uint64_t on_disk = 0;
  for (const auto& f : files) on_disk += fs::file_size(dir.path() / f);
  CHECK(stats.disk_usage_bytes == on_disk);
}

TEST_CASE("file store: the quota deletes earlier runs' files oldest first, then closed ones, never an open one",
          "[storage]") {
  preroll::test::TempDir dir;
  make_old_file(dir.path() / "old-b.atf", 100 * 1024, 2000);
  make_old_file(dir.path() / "old-a.atf", 100 * 1024, 1000);  // oldest
  make_old_file(dir.path() / "notes.txt", 500 * 1024, 500);   // not ours: never counted or deleted
  pd::DaemonStats stats;
  pd::StorageConfig cfg;
  cfg.max_file_size = 0;
  cfg.max_disk_usage = 1024 * 1024;  // files rotate at a tenth of it
  cfg.compression = atf::Compression::none;
  pd::FileStore store(dir.path(), cfg, stats);
  CHECK(store.usage() == 200 * 1024);
  CHECK(store.rotate_at() == 1024 * 1024 / 10);

  auto a = store.open_stream("a-1-20260101T000000Z", header(1), "pid 1");
  const StoreWindow w(5, 2000);  // ~10 KiB
  // 800 KiB fit beside the old files; the next windows push out old-a, then old-b.
  int written = 0;
  while (fs::exists(dir.path() / "old-b.atf")) {
    REQUIRE(store.append(*a, w.meta, w.events));
    REQUIRE(++written < 300);
    // Oldest first: old-b never goes while old-a is still there.
    CHECK_FALSE((!fs::exists(dir.path() / "old-b.atf") && fs::exists(dir.path() / "old-a.atf")));
  }
  CHECK(written > 70);  // the old files were kept while there was room
  CHECK_FALSE(fs::exists(dir.path() / "old-a.atf"));
  CHECK(fs::exists(dir.path() / "notes.txt"));
  CHECK(stats.files_deleted == 2);
  CHECK(store.usage() <= *cfg.max_disk_usage);

  // Then this stream's own closed (rotated) files go, oldest first, while the
  // file being written stays.
  for (int i = 0; i < 200; ++i) REQUIRE(store.append(*a, w.meta, w.events));
  CHECK(store.usage() <= *cfg.max_disk_usage);
  CHECK(fs::exists(a->current_file()));
  const auto left = names(dir.path());
  REQUIRE(left.size() >= 3);
  CHECK(left.front() != "a-1-20260101T000000Z-000.atf");
  CHECK(left[left.size() - 2] == a->current_file().filename().string());  // newest .atf, before notes.txt

  // A quota that only open files fill: the window is dropped and counted.
  pd::DaemonStats tight_stats;
  preroll::test::TempDir tight_dir;
  cfg.max_disk_usage = 64 * 1024;
  cfg.max_file_size = 0;
  pd::FileStore tight(tight_dir.path(), cfg, tight_stats);
  auto s1 = tight.open_stream("s1", header(2), "pid 2");
  auto s2 = tight.open_stream("s2", header(3), "pid 3");
  int dropped = 0;
  for (int i = 0; i < 20; ++i) {
    dropped += tight.append(*s1, w.meta, w.events) ? 0 : 1;
    dropped += tight.append(*s2, w.meta, w.events) ? 0 : 1;
    CHECK(tight.usage() <= 64 * 1024);
  }
  CHECK(dropped > 0);
  CHECK(tight_stats.windows_dropped_quota == static_cast<std::uint64_t>(dropped));
}

TEST_CASE("storage options: sizes, policies and their errors", "[storage][config]") {
  using pd::parse_size;
  CHECK(parse_size("0") == 0u);
  CHECK(parse_size("4096") == 4096u);
  CHECK(parse_size("64K") == 65536u);
  CHECK(parse_size("64KiB") == 65536u);
  CHECK(parse_size("2M") == 2u << 20);
  CHECK(parse_size("3GB") == 3ull << 30);
  CHECK_FALSE(parse_size("").has_value());
  CHECK_FALSE(parse_size("12X").has_value());
  CHECK_FALSE(parse_size("-1").has_value());
  CHECK_FALSE(parse_size("99999999999T").has_value());

  const auto parse = [](std::vector<const char*> args) {
    args.insert(args.begin(), "prerolld");
    return pd::parse_command_line(static_cast<int>(args.size()), args.data(), "");
  };
  const auto defaults = parse({});
  REQUIRE(defaults.config.has_value());
  CHECK(defaults.config->storage.compression == atf::Compression::zstd);
  CHECK(defaults.config->storage.fsync == pd::FsyncPolicy::interval);
  CHECK(defaults.config->storage.max_file_size == 64u << 20);
  CHECK_FALSE(defaults.config->storage.max_disk_usage.has_value());  // auto

  const auto set = parse({"--compress", "none", "--fsync", "window", "--max-file-size", "1M", "--max-disk-usage",
                          "0", "--fsync-interval", "0.5", "--compress-level", "9"});
  REQUIRE(set.config.has_value());
  CHECK(set.config->storage.compression == atf::Compression::none);
  CHECK(set.config->storage.fsync == pd::FsyncPolicy::window);
  CHECK(set.config->storage.max_file_size == 1u << 20);
  CHECK(set.config->storage.max_disk_usage == 0u);
  CHECK(set.config->storage.fsync_interval_ns == 500'000'000u);
  CHECK(set.config->storage.zstd_level == 9);

  const auto bad = parse({"--compress", "gzip", "--fsync", "sometimes", "--max-file-size", "10X",
                          "--max-disk-usage", "1K", "--compress-level", "30"});
  CHECK_FALSE(bad.config.has_value());
  CHECK(bad.exit_code == 1);
  for (const char* opt : {"--compress ", "--fsync ", "--max-file-size", "--max-disk-usage", "--compress-level"})
    CHECK_THAT(bad.message, Catch::Contains(opt));
}
