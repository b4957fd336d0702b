// FileStore when the system fails it: a full disk (RLIMIT_FSIZE) failing a
// window and then letting the next one through, fdatasync failing on sync
// and close, the quota unable to delete a file, every file name taken, and
// what it finds in the output directory at start-up. The failures run in a
// forked child (syscall_faults.hpp) that reports counters as text.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "daemon_stats.hpp"
#include "preroll/atf/reader.hpp"
#include "process.hpp"
#include "storage/file_store.hpp"
#include "store_window.hpp"
#include "syscall_faults.hpp"

namespace pd = preroll::daemon;
namespace atf = preroll::atf;
namespace fs = std::filesystem;
using preroll::test::fail_syscalls;
using preroll::test::in_child;
using preroll::test::StoreWindow;

namespace {

pd::StorageConfig plain_config() {
  pd::StorageConfig c;
  c.compression = atf::Compression::none;
  c.max_disk_usage = 0;
  c.max_file_size = 0;
  return c;
}

atf::FileHeader fs_header() {
  atf::FileHeader h;
  h.pid = 9;
  h.process_name = "app";
  return h;
}

// The windows a file holds and how it ends.
std::string read_summary(const fs::path& path) {
  auto r = atf::Reader::open(path);
  atf::ReadWindow w;
  std::string out;
  while (r->next(w)) out += std::to_string(w.events.size()) + " ";
  return out + std::string(atf::to_string(r->status().reason));
}

void set_mtime(const fs::path& path, time_t sec, long nsec) {
  const timespec times[2] = {{sec, nsec}, {sec, nsec}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("file store: a window the disk has no room for fails alone, and the next one writes again", "[storage]") {
  preroll::test::TempDir dir;
  const std::string out = in_child([&] {
    pd::DaemonStats stats;
    pd::FileStore store(dir.path(), plain_config(), stats);
    auto stream = store.open_stream("full", fs_header(), "pid 9 (app)");
    const StoreWindow small(2, 100), big(50, 4000);
    std::string r = store.append(*stream, small.meta, small.events) ? "ok " : "failed ";
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{fs::file_size(stream->current_file()) + 2048, RLIM_INFINITY};  // no room for the big window
    ::setrlimit(RLIMIT_FSIZE, &limit);
    r += store.append(*stream, big.meta, big.events) ? "ok " : "failed ";
    r += store.append(*stream, big.meta, big.events) ? "ok " : "failed ";  // still no room: logged once
    limit.rlim_cur = RLIM_INFINITY;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    r += store.append(*stream, big.meta, big.events) ? "ok " : "failed ";
    r += std::to_string(stats.write_errors.load());
    store.close(*stream);
    return r;
  });
  CHECK(out == "ok failed failed ok 2");
  CHECK(read_summary(dir.path() / "full-000.atf") == "2 50 clean end");
}

TEST_CASE("file store: fdatasync failing is counted on sync and on close, never thrown", "[storage]") {
  preroll::test::TempDir dir;
  const std::string out = in_child([&] {
    pd::DaemonStats stats;
    pd::StorageConfig cfg = plain_config();
    cfg.fsync = pd::FsyncPolicy::interval;
    pd::FileStore store(dir.path(), cfg, stats);
    auto stream = store.open_stream("sync", fs_header(), "pid 9 (app)");
    const StoreWindow w(3, 100);
    if (!store.append(*stream, w.meta, w.events)) return std::string("append failed");
    if (!fail_syscalls({{SYS_fdatasync, EIO}})) return std::string("no seccomp");
    store.sync_dirty();                                       // dirty: tried, failed
    std::string r = std::to_string(stats.write_errors.load()) + " ";
    r += std::to_string(store.sync_all()) + " ";              // no longer dirty: not tried
    r += std::to_string(stats.write_errors.load()) + " ";
    store.close(*stream);                                         // END written, fdatasync fails
    r += std::to_string(stats.write_errors.load());
    return r;
  });
  CHECK(out == "1 0 1 2");
  CHECK(read_summary(dir.path() / "sync-000.atf") == "3 clean end");
}

TEST_CASE("file store: --fsync window syncs after every window, and a failing sync loses no window", "[storage]") {
  preroll::test::TempDir dir;
  const std::string out = in_child([&] {
    pd::DaemonStats stats;
    pd::StorageConfig cfg = plain_config();
    cfg.fsync = pd::FsyncPolicy::window;
    pd::FileStore store(dir.path(), cfg, stats);
    auto stream = store.open_stream("each", fs_header(), "pid 9 (app)");
    const StoreWindow w(1, 10);
    std::string r = store.append(*stream, w.meta, w.events) ? "ok " : "failed ";
    r += std::to_string(stats.fsyncs.load()) + " ";
    store.sync_dirty();  // not --fsync interval: nothing to do
    r += store.sync_interval() ? "interval " : "";
    if (!fail_syscalls({{SYS_fdatasync, EIO}})) return std::string("no seccomp");
    r += store.append(*stream, w.meta, w.events) ? "ok " : "failed ";
    r += std::to_string(stats.fsyncs.load()) + " " + std::to_string(stats.write_errors.load());
    return r;
  });
  CHECK(out == "ok 1 ok 1 1");
  CHECK(read_summary(dir.path() / "each-000.atf") == "1 1 clean end");
}

TEST_CASE("file store: a file the quota cannot delete stays counted, and the window is dropped", "[storage]") {
  preroll::test::TempDir dir;
  for (const char* name : {"old-a.atf", "old-b.atf"}) std::ofstream(dir.path() / name) << std::string(60'000, 'o');
  const std::string out = in_child([&] {
    if (!fail_syscalls({{SYS_unlink, EACCES}, {SYS_unlinkat, EACCES}})) return std::string("no seccomp");
    pd::DaemonStats stats;
    pd::StorageConfig cfg = plain_config();
    cfg.max_disk_usage = 100'000;  // the two old files are over it; neither can go
    pd::FileStore store(dir.path(), cfg, stats);
    std::string r = std::to_string(store.usage()) + " ";
    auto stream = store.open_stream("new", fs_header(), "pid 9 (app)");
    const StoreWindow w(1, 10);
    r += store.append(*stream, w.meta, w.events) ? "ok " : "dropped ";
    r += std::to_string(stats.windows_dropped_quota.load()) + " " + std::to_string(stats.files_deleted.load());
    return r;
  });
  CHECK(out == "120000 dropped 1 0");
  CHECK(fs::exists(dir.path() / "old-a.atf"));
  CHECK(fs::exists(dir.path() / "old-b.atf"));
}

TEST_CASE("file store: when every numbered name is taken the window fails, counted as a write error", "[storage]") {
  preroll::test::TempDir dir;
  // The stream's next file after a rotation would be busy-001.atf: it and
  // the 99 after it are there already.
  for (int i = 1; i <= 100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "busy-%03d.atf", i);
    std::ofstream(dir.path() / name) << "x";
  }
  pd::DaemonStats stats;
  pd::StorageConfig cfg = plain_config();
  cfg.max_file_size = 1;  // every window after the first rotates
  pd::FileStore store(dir.path(), cfg, stats);
  auto stream = store.open_stream("busy", fs_header(), "pid 9 (app)");
  const StoreWindow w(1, 10);
  CHECK(store.append(*stream, w.meta, w.events));
  CHECK_FALSE(store.append(*stream, w.meta, w.events));
  CHECK(stats.write_errors == 1);
  CHECK(stats.files_rotated == 1);
  CHECK(stream->files_opened() == 1);
  CHECK(stream->current_file() == dir.path() / "busy-000.atf");
  CHECK(read_summary(dir.path() / "busy-000.atf") == "1 clean end");
}

TEST_CASE("file store: a file that cannot be created fails the window, the next window tries again", "[storage]") {
  preroll::test::TempDir dir;
  const std::string out = in_child([&] {
    pd::DaemonStats stats;
    pd::FileStore store(dir.path(), plain_config(), stats);
    auto stream = store.open_stream("nocreate", fs_header(), "pid 9 (app)");
    const StoreWindow w(1, 10);
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{8, RLIM_INFINITY};  // not even a preamble fits
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::string r = store.append(*stream, w.meta, w.events) ? "ok " : "failed ";
    limit.rlim_cur = RLIM_INFINITY;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    r += store.append(*stream, w.meta, w.events) ? "ok " : "failed ";
    r += std::to_string(stats.write_errors.load()) + " " + std::to_string(stream->files_opened());
    store.close(*stream);
    return r;
  });
  CHECK(out == "failed ok 1 1");
  CHECK(read_summary(dir.path() / "nocreate-000.atf") == "1 clean end");
}

TEST_CASE("file store: at start-up only regular *.atf files count, oldest (to the nanosecond) deleted first", "[storage]") {
  preroll::test::TempDir dir;
  const fs::path d = dir.path();
  fs::create_directory(d / "a-directory.atf");
  fs::create_symlink(d / "elsewhere", d / "a-link.atf");
  std::ofstream(d / "other.txt") << std::string(50'000, 't');
  for (const char* name : {"n1.atf", "n2.atf", "s0.atf", "s1.atf"}) std::ofstream(d / name) << std::string(30'000, 'o');
  set_mtime(d / "s0.atf", 1000, 0);
  set_mtime(d / "s1.atf", 1000, 0);    // same instant: by name
  set_mtime(d / "n1.atf", 2000, 500);
  set_mtime(d / "n2.atf", 2000, 100);  // same second, earlier nanosecond
  pd::DaemonStats stats;
  pd::StorageConfig cfg = plain_config();
  cfg.max_disk_usage = 65'000;  // room for two of the four
  pd::FileStore store(d, cfg, stats);
  CHECK(store.usage() == 60'000);
  CHECK(stats.files_deleted == 2);
  CHECK_FALSE(fs::exists(d / "s0.atf"));
  CHECK_FALSE(fs::exists(d / "s1.atf"));
  CHECK(fs::exists(d / "n1.atf"));
  CHECK(fs::exists(d / "n2.atf"));
  // The next deletion takes n2 (earlier nanosecond) before n1.
  auto stream = store.open_stream("fresh", fs_header(), "pid 9 (app)");
  const StoreWindow w(1, 10);
  CHECK(store.append(*stream, w.meta, w.events));
  CHECK_FALSE(fs::exists(d / "n2.atf"));
  CHECK(fs::exists(d / "n1.atf"));
  CHECK(fs::is_directory(d / "a-directory.atf"));
  CHECK(fs::is_symlink(d / "a-link.atf"));
}

TEST_CASE("file store: an output path it cannot list is reported and starts empty", "[storage]") {
  preroll::test::TempDir dir;
  const fs::path not_a_dir = dir.path() / "file";
  std::ofstream(not_a_dir) << "x";
  pd::DaemonStats stats;
  pd::FileStore store(not_a_dir, plain_config(), stats);
  CHECK(store.usage() == 0);
  CHECK(stats.disk_usage_bytes == 0);
}
