// Storage against a real prerolld: rotation and the disk quota over many
// windows, a full disk (a small tmpfs mounted by the test, as root), and the
// daemon killed with SIGKILL in the middle of writing.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"

using namespace std::chrono_literals;
using preroll::test::all_clients_detached;
using preroll::test::ctl_json;
using preroll::test::DaemonFixture;
using preroll::test::read_all;
using preroll::test::wait_for;
namespace atf = preroll::atf;
namespace fs = std::filesystem;

namespace {

std::uint64_t total_size(const std::vector<fs::path>& files) {
  std::uint64_t n = 0;
  for (const auto& f : files) n += fs::file_size(f);
  return n;
}

// Highest "seq=N" per thread tag ("t00", "t01") in the files' messages.
std::map<std::string, std::uint64_t> last_sequence(const preroll::test::Readback& r) {
  std::map<std::string, std::uint64_t> last;
  for (const auto& w : r.windows)
    for (const auto& e : w.events) {
      const auto at = e.message.find(" seq=");
      if (at == std::string::npos || at < 3) continue;
      const std::string tag = e.message.substr(0, 3);
      const std::uint64_t seq = std::stoull(e.message.substr(at + 5, 10));
      last[tag] = std::max(last[tag], seq);
    }
  return last;
}

// A tmpfs of `bytes` mounted at `where` for the test's life. Mounting needs
// CAP_SYS_ADMIN: CI runs as root; elsewhere the test says so and passes.
class SmallTmpfs {
 public:
  SmallTmpfs(const fs::path& where, std::uint64_t bytes) : where_(where) {
    fs::create_directories(where);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0755";
    mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  [[nodiscard]] bool mounted() const noexcept { return mounted_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  fs::path where_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `bytes` of filler (not an .atf file, so no quota counts it).
void write_filler(const fs::path& path, std::uint64_t bytes) {
  std::ofstream f(path, std::ios::binary);
  const std::string block(64 * 1024, 'f');
  for (std::uint64_t done = 0; done < bytes; done += block.size())
    f.write(block.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(block.size(), bytes - done)));
  f.flush();
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE("storage: files rotate at --max-file-size and the oldest closed files go at --max-disk-usage",
          "[storage]") {
  constexpr std::uint64_t kMaxFile = 256 * 1024;
  constexpr std::uint64_t kQuota = 4 * 1024 * 1024;
  DaemonFixture d({"--marking", "off", "--compress", "none", "--fsync", "never", "--max-file-size", "256K",
                   "--max-disk-usage", "4M"});
  // About 23 MB of events: ~90 files' worth, so the quota must delete most.
  const auto summary = d.run_client(
      {PREROLL_GEN_PATH, "--threads", "2", "--events", "100000", "--message-size", "100", "--rate", "400000"});
  INFO("preroll-gen: " << summary.dump());
  // The client is gone once its files are closed: wait for that, then read
  // the counters while the daemon still runs.
  REQUIRE(wait_for([&] { return all_clients_detached(d); }, 30s));
  const auto stats = ctl_json(d, "stats");
  INFO("stats: " << stats.dump());
  const auto files = d.files();
  CHECK(stats["files_rotated"].get<std::uint64_t>() > 20);
  CHECK(stats["files_deleted"].get<std::uint64_t>() > 10);
  CHECK(stats["disk_usage_bytes"].get<std::uint64_t>() == total_size(files));
  CHECK(total_size(files) <= kQuota);
  CHECK(stats["windows_failed"] == 0);
  d.stop();

  // Names: <process>-<pid>-<start>-NNN.atf, one client, consecutive numbers
  // up to the last file (the oldest were deleted).
  const std::regex name(R"(preroll-gen-(\d+)-(\d{8}T\d{6}Z)-(\d{3,})\.atf)");
  REQUIRE(files.size() >= 5);
  std::vector<std::uint32_t> numbers;
  std::string base;
  for (const auto& f : files) {
    INFO(f.filename().string());
    std::smatch m;
    const std::string file_name = f.filename().string();
    REQUIRE(std::regex_match(file_name, m, name));
    const std::string this_base = m[1].str() + m[2].str();
    if (base.empty()) base = this_base;
    CHECK(this_base == base);
    numbers.push_back(static_cast<std::uint32_t>(std::stoul(m[3].str())));
    CHECK(fs::file_size(f) <= kMaxFile + 40);  // rotation before passing the limit; + the END record
    auto reader = atf::Reader::open(f);
    CHECK(reader->header().file_sequence == numbers.back());
    atf::ReadWindow w;
    while (reader->next(w)) {
    }
    CHECK(reader->status().reason == atf::StopReason::clean_end);
  }
  std::sort(numbers.begin(), numbers.end());
  for (std::size_t i = 1; i < numbers.size(); ++i) CHECK(numbers[i] == numbers[i - 1] + 1);
  CHECK(numbers.front() > 0);  // the first files were deleted ...
  // ... and the newest kept: the last event written is on disk (a thread
  // that finished early may have had its end in a file deleted since).
  const auto last = last_sequence(read_all(files));
  REQUIRE_FALSE(last.empty());
  std::uint64_t newest = 0;
  for (const auto& [thread, seq] : last) newest = std::max(newest, seq);
  CHECK(newest == 99999);
}

TEST_CASE("storage: a full disk fails windows, not the daemon, and writes resume when space returns", "[storage]") {
  DaemonFixture d({"--marking", "off", "--compress", "none", "--fsync", "window", "--max-disk-usage", "0"},
                  DaemonFixture::Deferred{});
  SmallTmpfs disk(d.out, 4 * 1024 * 1024);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (" << disk.error() << "): run as root to test a full disk");
    return;
  }
  // Leave about 600 KiB: a few windows fit, then the disk is full.
  const fs::path filler = d.out / "filler.bin";
  write_filler(filler, 4 * 1024 * 1024 - 600 * 1024);
  d.start();

  d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "60000", "--message-size", "100", "--rate", "300000"});
  REQUIRE(wait_for([&] { return all_clients_detached(d); }, 30s));
  const auto full = ctl_json(d, "stats");
  INFO("stats with the disk full: " << full.dump() << "\nprerolld log:\n" << d.log());
  CHECK(full["write_errors"].get<std::uint64_t>() > 0);
  CHECK(full["windows_failed"].get<std::uint64_t>() > 0);
  CHECK(full["windows_persisted"].get<std::uint64_t>() > 0);
  // The log names the file and the error.
  CHECK_THAT(d.log(), Catch::Contains("No space left on device") && Catch::Contains(".atf"));

  // What was written before the disk filled is intact: whole windows only.
  const auto before = d.files();
  REQUIRE_FALSE(before.empty());
  const auto first = read_all(before);
  for (const auto& st : first.statuses) {
    INFO("status " << atf::to_string(st.reason) << " at " << st.offset << ": " << st.detail);
    CHECK(st.ok());
  }
  CHECK(first.windows.size() == full["windows_persisted"].get<std::uint64_t>());

  // Space returns: the next client's windows are written.
  fs::remove(filler);
  const auto summary =
      d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--message-size", "100"});
  REQUIRE(wait_for([&] { return all_clients_detached(d); }, 30s));
  const auto after = ctl_json(d, "stats");
  INFO("stats after space returned: " << after.dump());
  CHECK(after["windows_failed"] == full["windows_failed"]);
  CHECK(after["windows_persisted"].get<std::uint64_t>() > full["windows_persisted"].get<std::uint64_t>());
  const auto again = read_all(d.files());
  CHECK(again.events == first.events + summary["events"].get<std::uint64_t>());
  d.stop();
}

TEST_CASE("storage: a read-only output directory fails windows, not the daemon, and writes resume when it is writable",
          "[storage]") {
  DaemonFixture d({"--marking", "off", "--compress", "none", "--fsync", "window", "--max-disk-usage", "0"},
                  DaemonFixture::Deferred{});
  SmallTmpfs disk(d.out, 64 * 1024 * 1024);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs (" << disk.error() << "): run as root to test a read-only output directory");
    return;
  }
  const auto remount = [&](unsigned long flags) {
    INFO("remount " << d.out << ": " << std::strerror(errno));
    REQUIRE(::mount(nullptr, d.out.c_str(), nullptr, MS_REMOUNT | MS_NOSUID | MS_NODEV | flags, "mode=0755") == 0);
  };
  d.start();
  const std::vector<std::string> gen = {PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--message-size",
                                        "100"};
  const auto first = d.run_client(gen);
  REQUIRE(wait_for([&] { return all_clients_detached(d); }, 30s));
  const auto written = ctl_json(d, "stats");
  REQUIRE(written["windows_persisted"].get<std::uint64_t>() > 0);
  const auto files_before = d.files();

  // Every file is closed (the client detached): the file system can go read-only.
  remount(MS_RDONLY);
  d.run_client(gen);
  REQUIRE(wait_for([&] { return ctl_json(d, "stats")["clients_detached_total"] == 2; }, 30s));
  const auto readonly = ctl_json(d, "stats");
  INFO("stats with the directory read-only: " << readonly.dump() << "\nprerolld log:\n" << d.log());
  CHECK(readonly["windows_failed"].get<std::uint64_t>() > 0);
  CHECK(readonly["windows_persisted"] == written["windows_persisted"]);
  CHECK(readonly["write_errors"].get<std::uint64_t>() > 0);
  CHECK_THAT(d.log(), Catch::Contains("Read-only file system") && Catch::Contains(d.out.string()));
  CHECK(d.files() == files_before);

  // Writable again: the next client's windows are all written, the daemon never restarted.
  remount(0);
  const auto third = d.run_client(gen);
  REQUIRE(wait_for([&] { return ctl_json(d, "stats")["clients_detached_total"] == 3; }, 30s));
  const auto after = ctl_json(d, "stats");
  INFO("stats after: " << after.dump());
  CHECK(after["windows_failed"] == readonly["windows_failed"]);
  const auto r = read_all(d.files());
  for (const auto& st : r.statuses) CHECK(st.ok());
  CHECK(r.events == first["events"].get<std::uint64_t>() + third["events"].get<std::uint64_t>());
  d.stop();
}

TEST_CASE("storage: prerolld killed with SIGKILL while writing leaves every completed window readable",
          "[storage]") {
  DaemonFixture d({"--marking", "off", "--fsync", "never"});
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    auto client = d.spawn_client(
        {PREROLL_GEN_PATH, "--threads", "2", "--events", "400000", "--message-size", "120", "--rate", "300000"});
    // Kill at a different depth each round.
    const std::uint64_t target = 20 + 40 * static_cast<std::uint64_t>(round);
    std::uint64_t persisted = 0;
    REQUIRE(wait_for(
        [&] {
          persisted = ctl_json(d, "stats")["windows_persisted"].get<std::uint64_t>();
          return persisted >= target;
        },
        60s));
    d.kill9();
    client->signal(SIGKILL);
    REQUIRE(client->wait(10s).has_value());

    // Every window counted as persisted before the kill is in a file, and
    // no file holds a damaged record: at most a cut tail.
    const auto r = read_all(d.files());
    for (const auto& st : r.statuses) {
      INFO("status " << atf::to_string(st.reason) << " at " << st.offset << ": " << st.detail);
      CHECK((st.reason == atf::StopReason::eof_no_end || st.reason == atf::StopReason::truncated ||
             st.reason == atf::StopReason::clean_end));
    }
    CHECK(r.windows.size() >= persisted);
    d.start();
  }
}
