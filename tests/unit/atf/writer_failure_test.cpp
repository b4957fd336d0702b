// The writer when the system fails it: the file size limit (RLIMIT_FSIZE)
// cutting a write short, ftruncate refused, fdatasync and close(2) failing.
// Each case runs in a forked child (the limits and the seccomp filter are
// the child's alone) and reports what it saw as text.
#include "../../support/syscall_faults.hpp"
#include "atf_test_support.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <system_error>

using namespace atf_test;
using preroll::test::fail_syscalls;
using preroll::test::in_child;

namespace {

// From now on, in this process, a write past `bytes` fails with EFBIG
// (SIGXFSZ ignored, so write returns short, then the error). The soft limit
// only: in_child lifts it again before the child exits.
void limit_file_size(std::uint64_t bytes) {
  ::signal(SIGXFSZ, SIG_IGN);
  const rlimit limit{bytes, RLIM_INFINITY};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit failed");
}

// What a call threw, as "errno-name: message", or "ok".
template <typename F>
std::string outcome(F&& f) {
  try {
    f();
    return "ok";
  } catch (const std::system_error& e) {
    return std::to_string(e.code().value()) + ": " + e.what();
  }
}

// The descriptor of `path` in this process, found in /proc/self/fd.
int fd_of(const fs::path& path) {
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(entry.path(), ec) == path) return std::stoi(entry.path().filename().string());
  }
  return -1;
}

}  // namespace

TEST_CASE("a failed append that cannot be truncated away leaves the writer unusable, earlier windows readable", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("broken.atf");
  const SampleWindow first = make_window(0, 3);
  const SampleWindow second = make_window(1, 400);
  const std::string out = in_child([&] {
    auto w = Writer::create(path, sample_header());
    w->append_window(first.meta, first.views());
    limit_file_size(w->bytes_written() + 100);  // room for part of the next window only
    if (!fail_syscalls({{SYS_ftruncate, EPERM}})) return std::string("no seccomp");
    std::string r = outcome([&] { w->append_window(second.meta, second.views()); }) + "\n";
    r += std::string(w->usable() ? "usable" : "unusable") + "\n";
    r += outcome([&] { w->append_window(first.meta, first.views()); }) + "\n";
    r += outcome([&] { w->sync(); }) + "\n";
    r += outcome([&] { w->close(); }) + "\n";
    r += std::to_string(w->windows_written());
    return r;
  });
  const std::string bad = "writer unusable: a failed write could not be truncated away";
  CHECK(out == std::to_string(EFBIG) + ": " + path.string() + ": cannot append window 1: File too large\n" +
                   "unusable\n" + std::to_string(EIO) + ": " + path.string() + ": " + bad + ": Input/output error\n" +
                   std::to_string(EIO) + ": " + path.string() + ": " + bad + ": Input/output error\n" + "ok\n1");
  // The first window is whole; the cut second one ends the file.
  ReadStatus status;
  const auto windows = read_all(path, status);
  REQUIRE(windows.size() == 1);
  check_window(windows[0], first);
  CHECK(status.reason == StopReason::truncated);
}

TEST_CASE("close reports an end record it cannot write, and the destructor swallows it", "[atf][writer]") {
  TempDir dir;
  const auto closed = dir.file("closed.atf");
  const auto destroyed = dir.file("destroyed.atf");
  const SampleWindow window = make_window(0, 2);
  const std::string out = in_child([&] {
    auto w = Writer::create(closed, sample_header());
    w->append_window(window.meta, window.views());
    auto d = Writer::create(destroyed, sample_header());
    d->append_window(window.meta, window.views());
    limit_file_size(std::max(w->bytes_written(), d->bytes_written()));  // no room for an end record
    std::string r = outcome([&] { w->close(); }) + "\n";
    r += std::string(w->usable() ? "usable" : "closed") + "\n";
    r += outcome([&] { w->close(); }) + "\n";  // idempotent: nothing left to do
    r += outcome([&] { d.reset(); });
    return r;
  });
  CHECK(out == std::to_string(EFBIG) + ": " + closed.string() + ": cannot write the end record: File too large\n" +
                   "closed\nok\nok");
  for (const auto& path : {closed, destroyed}) {
    ReadStatus status;
    CHECK(read_all(path, status).size() == 1);
    CHECK(status.reason == StopReason::eof_no_end);
  }
}

TEST_CASE("close with sync_data on a healthy file syncs and ends it cleanly", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("synced.atf");
  const SampleWindow window = make_window(0, 2);
  auto w = Writer::create(path, sample_header());
  w->append_window(window.meta, window.views());
  w->sync();
  w->close(/*sync_data=*/true);
  CHECK_FALSE(w->usable());
  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::clean_end);
}

TEST_CASE("fdatasync failing: sync throws, close with sync throws after writing the end record", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("sync.atf");
  const SampleWindow window = make_window(0, 2);
  const std::string out = in_child([&] {
    auto w = Writer::create(path, sample_header());
    w->append_window(window.meta, window.views());
    if (!fail_syscalls({{SYS_fdatasync, EIO}})) return std::string("no seccomp");
    std::string r = outcome([&] { w->sync(); }) + "\n";
    r += outcome([&] { w->close(/*sync_data=*/true); }) + "\n";
    r += std::string(w->usable() ? "usable" : "closed");
    return r;
  });
  CHECK(out == std::to_string(EIO) + ": " + path.string() + ": fdatasync: Input/output error\n" +
                   std::to_string(EIO) + ": " + path.string() + ": fdatasync: Input/output error\nclosed");
  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::clean_end);
}

TEST_CASE("close(2) failing is reported, except EINTR (the descriptor is closed then)", "[atf][writer]") {
  TempDir dir;
  const auto failing = dir.file("eio.atf");
  const auto interrupted = dir.file("eintr.atf");
  const std::string out = in_child([&] {
    auto a = Writer::create(failing, sample_header());
    auto b = Writer::create(interrupted, sample_header());
    const int fa = fd_of(failing), fb = fd_of(interrupted);
    if (fa < 0 || fb < 0) return std::string("descriptors not found");
    if (!fail_syscalls({{SYS_close, EIO, static_cast<std::uint32_t>(fa)}, {SYS_close, EINTR, static_cast<std::uint32_t>(fb)}}))
      return std::string("no seccomp");
    std::string r = outcome([&] { a->close(); }) + "\n";
    r += outcome([&] { b->close(); });
    return r;
  });
  CHECK(out == std::to_string(EIO) + ": " + failing.string() + ": close: Input/output error\nok");
}

TEST_CASE("a file header that cannot be written leaves no file behind", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("nohead.atf");
  const std::string out = in_child([&] {
    limit_file_size(10);  // part of the preamble
    return outcome([&] { (void)Writer::create(path, sample_header()); });
  });
  CHECK(out == std::to_string(EFBIG) + ": " + path.string() + ": cannot write the file header: File too large");
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("a file header over the record limit is refused before the file is created", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("bighead.atf");
  FileHeader h = sample_header();
  h.policy_json.assign((64u << 20) + 1, 'x');
  try {
    (void)Writer::create(path, h);
    FAIL("a 64 MiB header was written");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::invalid_argument);
    CHECK_THAT(std::string(e.what()), Catch::Contains("file header exceeds the record size limit"));
  }
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("a window with more pattern hits than a record holds is refused before anything is written", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("hits.atf");
  auto w = Writer::create(path, sample_header());
  const std::uint64_t before = w->bytes_written();
  SampleWindow window = make_window(0, 1);
  window.meta.patterns.assign(((64u << 20) - 80) / 8 + 1, PatternHit{1, 1});
  try {
    w->append_window(window.meta, window.views());
    FAIL("a window record over the limit was written");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::invalid_argument);
    CHECK_THAT(std::string(e.what()), Catch::EndsWith("window 0: too many pattern hits: Invalid argument"));
  }
  CHECK(w->bytes_written() == before);
  CHECK(w->usable());
}

TEST_CASE("a window over 16 MiB is written and read back, and later windows after it", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("huge.atf");
  SampleWindow big = make_window(0, 300);
  for (auto& e : big.events) e.message.assign(65535, static_cast<char>('a' + e.timestamp_ns % 26));
  const SampleWindow after = make_window(1, 5);
  write_file(path, {big, after});
  ReadStatus status;
  const auto windows = read_all(path, status);
  REQUIRE(windows.size() == 2);
  check_window(windows[0], big);
  check_window(windows[1], after);
  CHECK(status.reason == StopReason::clean_end);
}
