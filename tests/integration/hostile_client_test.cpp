// Hostile and broken clients against a real prerolld (issue #9): a client
// that scribbles over its own segment, breaks the queue protocol, sends
// malformed registration messages or the wrong kind of descriptor
// (tests/integration/clients/hostile_client.cpp), while a well-behaved client
// (steady_client.cpp, the real client library) keeps emitting marked events.
//
// For every attack: the daemon stays up and answers prerollctl; it reports
// the hostile client (the counter of its category, and a log line naming its
// pid and the reason); it detaches it by itself, while the hostile process is
// still alive, unless the damage is one corrupt ring, which the protocol says
// to count, report and skip (docs/protocol.md) — then the same client must
// still be served. The good client loses nothing: every mark it made is on
// disk exactly once and it counted no overwrite and no drop. After the
// attacks a new client is served normally: no restart needed.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"
#include "test_user.hpp"
#include "text_lines.hpp"

using namespace std::chrono_literals;
using preroll::test::ctl_json;
using preroll::test::DaemonFixture;
using preroll::test::Process;
using preroll::test::wait_for;
using preroll::test::eventually;
using preroll::test::file_pid;
using preroll::test::joined;
using preroll::test::lines_with;
using preroll::test::memfd_mappings;
using preroll::test::u64;
using nlohmann::json;

namespace {

bool has_line_with(const std::string& log, const std::vector<std::string>& parts) {
  return !lines_with(log, parts).empty();
}

std::vector<json> json_object_lines(const std::string& out) {
  std::vector<json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line.front() == '{') v.push_back(json::parse(line, nullptr, false));
  return v;
}

// The first line of `out` with "phase" == phase (null json if none yet).
json phase(const std::string& out, const std::string& name) {
  for (const json& j : json_object_lines(out))
    if (j.is_object() && j.value("phase", "") == name) return j;
  return nullptr;
}

// prerolld's pid, from the kernel (SO_PEERCRED of a connection to it).
pid_t daemon_pid(const DaemonFixture& d) {
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, d.socket.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ucred cred{};
  socklen_t len = sizeof cred;
  REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0);
  ::close(fd);
  return cred.pid;
}

// What the daemon's descriptors point at, sorted ("socket:[N]" as "socket").
std::vector<std::string> open_fds(pid_t pid) {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    std::string t = std::filesystem::read_symlink(e.path(), ec).string();
    if (ec) continue;  // closed while we looked
    if (t.rfind("socket:", 0) == 0) t = "socket";
    v.push_back(e.path().filename().string() + " -> " + t);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// The daemon's descriptors once they stopped changing (a connection it is
// closing, like daemon_pid()'s, is not part of the picture).
std::vector<std::string> settled_fds(pid_t pid) {
  std::vector<std::string> last = open_fds(pid);
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(100ms);
    std::vector<std::string> now = open_fds(pid);
    if (now == last) return now;
    last = std::move(now);
  }
  return last;
}

// The windows of the ATF files written for process `pid`.
preroll::test::Readback read_pid(const DaemonFixture& d, std::uint32_t pid) {
  std::vector<std::filesystem::path> mine;
  for (const auto& f : d.files())
    if (file_pid(f) == pid) mine.push_back(f);
  return preroll::test::read_all(mine);
}

// The well-behaved client that runs beside every attack.
class GoodClient {
 public:
  explicit GoodClient(DaemonFixture& d) : d_(d), stop_(d.dir.path() / ("steady-stop-" + std::to_string(++n_))) {
    proc_ = d.spawn_client({STEADY_CLIENT_PATH, stop_.string()});
    const bool up = wait_for([&] { return !phase(proc_->out(), "running").is_null() || !proc_->running(); }, 30s);
    INFO("steady client stderr: " << proc_->err());
    REQUIRE(up);
    REQUIRE(proc_->running());
    // Served before any attack: its file exists once a window of it was
    // written (a mark reaches disk within --flush-after, 2 s). The daemon's
    // descriptors are counted after that.
    REQUIRE(eventually(
        [&] {
          for (const auto& f : d_.files())
            if (file_pid(f) == static_cast<std::uint32_t>(proc_->pid())) return true;
          return false;
        },
        30s));
  }

  [[nodiscard]] pid_t pid() const { return proc_->pid(); }

  // Stops it and checks that it lost nothing: every mark on disk exactly
  // once, nothing overwritten or dropped, one connection all along.
  void finish_and_check() {
    { std::ofstream(stop_) << "stop\n"; }
    const auto st = proc_->wait(60s);
    INFO("steady client stderr: " << proc_->err() << "\nstdout: " << proc_->out());
    REQUIRE(st.has_value());
    REQUIRE(preroll::test::exit_code(*st) == 0);
    const json summary = DaemonFixture::last_json_line(proc_->out());
    // Its file is complete once the daemon has finalized it.
    REQUIRE(eventually([&] { return preroll::test::all_clients_detached(d_); }, 30s));
    const auto r = read_pid(d_, static_cast<std::uint32_t>(proc_->pid()));
    std::set<std::string> marks;
    std::size_t duplicates = 0;
    for (const auto& w : r.windows)
      for (const auto& e : w.events)
        if (e.message.rfind("steady-mark seq=", 0) == 0 && !marks.insert(e.message).second) ++duplicates;
    INFO("steady client: " << summary.dump() << "; its marks on disk: " << marks.size());
    CHECK(summary["marked"].get<std::uint64_t>() > 0);
    CHECK(marks.size() == summary["marked"].get<std::uint64_t>());
    CHECK(duplicates == 0);
    CHECK(summary["overwritten"] == 0);
    CHECK(summary["dropped"] == 0);
    CHECK(summary["connects"] == 1);
    for (const auto& s : r.statuses) CHECK(s.ok());
  }

 private:
  DaemonFixture& d_;
  std::filesystem::path stop_;
  std::unique_ptr<Process> proc_;
  static inline int n_ = 0;
};

struct Tally {
  std::size_t live_runs = 0;  // runs that attached (their first mark went to disk)
  std::map<std::string, std::size_t> by_category;
};

// Runs `attack seed` against the daemon with `baseline` other clients
// attached, and checks what the daemon did about it: the category
// (faulty | corrupt | served | rejected | protocol | closed, see
// hostile_client.cpp) and the fragments `log_reason` of its report line.
// `during` runs once the client is attached, before its attack is over.
void run_attack(DaemonFixture& d, std::uint64_t baseline, const std::string& attack, std::uint64_t seed,
                const std::optional<std::string>& want_category, const std::vector<std::string>& log_reason,
                Tally& tally, const std::function<void(Process&)>& during = {}) {
  const json before = ctl_json(d, "stats");
  auto client = d.spawn_client({HOSTILE_CLIENT_PATH, attack, std::to_string(seed)});
  const std::string pid = std::to_string(client->pid());
  const auto dump = [&] {
    return "hostile stdout:\n" + client->out() + "hostile stderr:\n" + client->err();
  };
  INFO("attack " << attack << " seed " << seed << " (pid " << pid << ")");
  if (during) during(*client);
  REQUIRE(wait_for([&] { return !phase(client->out(), "attacked").is_null() || !client->running(); }, 60s));
  const json attacked = phase(client->out(), "attacked");
  INFO(dump());
  REQUIRE(attacked.is_object());
  const std::string category = attacked["expect"].get<std::string>();
  // Fixed attacks have a fixed outcome; a random one's is what the
  // protocol's own checks say of the bytes it wrote (the client runs them).
  if (want_category) REQUIRE(category == *want_category);
  ++tally.by_category[category];
  if (!phase(client->out(), "attached").is_null()) ++tally.live_runs;

  // How the daemon's report lines name the client.
  const std::string log_pid = category == "rejected" ? "pid " + pid + " uid"
                              : category == "faulty" ? "pid " + pid + " (hostile-client)"
                                                     : "pid " + pid + ":";

  if (category == "corrupt" || category == "served") {
    // Still served: a marked window submitted after the attack came back.
    REQUIRE(wait_for([&] { return !phase(client->out(), "served-after").is_null() || !client->running(); }, 60s));
    INFO(dump());
    REQUIRE(!phase(client->out(), "served-after").is_null());
    const json s = ctl_json(d, "stats");
    CHECK(u64(s, "clients_faulty") == u64(before, "clients_faulty"));
    CHECK(u64(s, "clients_current") == baseline + 1);  // still attached
    if (category == "corrupt") {
      CHECK(u64(s, "rings_corrupt") > u64(before, "rings_corrupt"));
      std::vector<std::string> parts = {log_pid, "ring skipped"};
      parts.insert(parts.end(), log_reason.begin(), log_reason.end());
      CHECK(has_line_with(d.log(), parts));
    }
    // The daemon never closes on it: the test ends it.
    CHECK(client->running());
    client->signal(SIGTERM);
    REQUIRE(client->wait(10s).has_value());
  } else {
    // Detached by the daemon while the client still lived: it saw the hang-up.
    REQUIRE(wait_for([&] { return !phase(client->out(), "closed").is_null() || !client->running(); }, 30s));
    INFO(dump());
    CHECK(!phase(client->out(), "closed").is_null());
    const auto st = client->wait(10s);
    REQUIRE(st.has_value());
    CHECK(preroll::test::exit_code(*st) == 0);
    const json s = ctl_json(d, "stats");
    const char* name = category == "faulty"     ? "clients_faulty"
                       : category == "rejected" ? "clients_rejected"
                       : category == "protocol" ? "protocol_errors"
                                                : "clients_detached_total";
    CHECK(u64(s, name) > u64(before, name));
    if (category != "faulty") CHECK(u64(s, "clients_faulty") == u64(before, "clients_faulty"));
    std::vector<std::string> parts = {log_pid};
    if (category == "faulty") parts.push_back("corrupt segment");
    if (category == "rejected") parts.push_back("segment refused");
    if (category == "protocol") parts.push_back("disconnecting");
    if (category == "closed") parts.push_back("connection closed without goodbye");
    parts.insert(parts.end(), log_reason.begin(), log_reason.end());
    CHECK(eventually([&] { return has_line_with(d.log(), parts); }, 5s));
  }
  // Detached: only the good clients are left, and the daemon answers.
  CHECK(eventually([&] { return u64(ctl_json(d, "stats"), "clients_current") == baseline; }, 10s));
}

// After the attacks: a new client is served normally by the same daemon.
void new_client_is_served(DaemonFixture& d) {
  const json s = d.run_client(
      {PREROLL_GEN_PATH, "--events", "20000", "--message-size", "48", "--mark-every", "2000", "--client-mark"});
  REQUIRE(eventually([&] { return preroll::test::all_clients_detached(d); }, 30s));
  // preroll-gen ran under its own pid: find its file by the marks.
  const auto r = preroll::test::read_all(d.files());
  std::size_t gen_marks = 0;
  for (const auto& w : r.windows)
    for (const auto& e : w.events)
      if (e.message.rfind("t00 seq=", 0) == 0 && e.message.find("request failed") != std::string::npos) ++gen_marks;
  INFO("preroll-gen: " << s.dump());
  CHECK(gen_marks == s["marked"].get<std::uint64_t>());
  CHECK(s["events_overwritten"] == 0);
  CHECK(s["events_dropped"] == 0);
}

// The daemon's descriptors and mappings are back where they were: nothing of
// a hostile client is kept.
void nothing_leaked(pid_t daemon, const std::vector<std::string>& fds_before) {
  const bool same = eventually([&] { return open_fds(daemon).size() == fds_before.size(); }, 10s);
  INFO("daemon descriptors before:\n" << joined(fds_before) << "after:\n" << joined(open_fds(daemon)));
  CHECK(same);
  CHECK(eventually([&] { return memfd_mappings(daemon, "hostile") == 0; }, 10s));
}

void end_checks(DaemonFixture& d, GoodClient& good, const Tally& tally) {
  good.finish_and_check();
  // Each attached hostile client's first (marked) window was read and written
  // before its attack: the daemon was demonstrably attached.
  const auto r = preroll::test::read_all(d.files());
  CHECK(r.count_messages_containing("hostile-attached pid=") == tally.live_runs);
  // And a client whose damage was one corrupt ring (or nothing) went on
  // being served: the marked window it submitted after the attack is on disk.
  const auto count = [&](const char* c) { return tally.by_category.count(c) != 0 ? tally.by_category.at(c) : 0; };
  CHECK(r.count_messages_containing("hostile-after-attack pid=") == count("corrupt") + count("served"));
  new_client_is_served(d);
  const json s = ctl_json(d, "stats");
  CHECK(u64(s, "windows_failed") == 0);
  d.stop();  // exit status 0: it survived everything and shuts down cleanly
}

// The stage of every attack test: a daemon, a steady client beside it, the
// daemon's descriptors once settled, and the tally of what the attacks got.
// finish() runs the checks every attack test ends with.
struct Arena {
  DaemonFixture d;
  GoodClient good{lingering(d)};
  const pid_t daemon = daemon_pid(d);
  const std::vector<std::string> fds = settled_fds(daemon);
  Tally tally;

  void finish() {
    nothing_leaked(daemon, fds);
    end_checks(d, good, tally);
  }

 private:
  // Hostile clients stay alive after their attack: the daemon must detach them by itself.
  static DaemonFixture& lingering(DaemonFixture& fixture) {
    fixture.client_env = {"HOSTILE_LINGER_S=40"};
    return fixture;
  }
};

}  // namespace

TEST_CASE("hostile client: random garbage over its segment header, lane table and queues (20 seeds each)") {
  Arena a;
  for (const char* attack : {"header-garbage", "lane-garbage", "queue-garbage"})
    for (std::uint64_t seed = 1; seed <= 20; ++seed) run_attack(a.d, 1, attack, seed, "faulty", {}, a.tally);
  CHECK(a.tally.by_category["faulty"] == 60);
  a.finish();
}

TEST_CASE("hostile client: random garbage over ring headers, ring bytes and its active ring (20 seeds each)") {
  Arena a;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_attack(a.d, 1, "ring-header-garbage", seed, std::nullopt, {"impossible start/wrap/committed"}, a.tally);
    run_attack(a.d, 1, "ring-garbage", seed, std::nullopt, {}, a.tally);
    run_attack(a.d, 1, "active-ring-garbage", seed, "served", {}, a.tally);
  }
  // Random bytes almost never parse: most runs must have been corrupt rings.
  CHECK(a.tally.by_category["corrupt"] >= 30);
  a.finish();
}

TEST_CASE("hostile client: lengths and ring indices out of range, a ring submitted twice, queue positions moved") {
  Arena a;
  // Every variant of a length the ring cannot hold (seed % 8), twice each:
  // the ring is counted corrupt and skipped, the client goes on.
  for (std::uint64_t seed = 0; seed < 16; ++seed) run_attack(a.d, 1, "length-out-of-range", seed, "corrupt", {}, a.tally);
  for (std::uint64_t seed = 0; seed < 10; ++seed)
    run_attack(a.d, 1, "index-out-of-range", seed, "faulty", {"out of range"}, a.tally);
  run_attack(a.d, 1, "double-submit", 0, "faulty", {"submitted twice (the daemon holds it)"}, a.tally);
  run_attack(a.d, 1, "double-submit-marked", 0, "faulty", {"submitted while still in the free queue"}, a.tally);
  run_attack(a.d, 1, "resubmit-free-ring", 0, "faulty", {"submitted while still in the free queue"}, a.tally);
  run_attack(a.d, 1, "free-head-backwards", 0, "faulty", {"submitted while still in the free queue"}, a.tally);
  run_attack(a.d, 1, "free-head-ahead", 0, "faulty", {"free queue positions are impossible"}, a.tally);
  for (std::uint64_t seed = 0; seed < 3; ++seed)
    run_attack(a.d, 1, "submit-tail-backwards", seed, "faulty", {"submit queue positions are impossible"}, a.tally);
  a.finish();
}

TEST_CASE("hostile client: malformed registration messages, descriptors on doorbells and a doorbell flood") {
  Arena a;
  run_attack(a.d, 1, "bad-magic", 0, "protocol", {"bad magic"}, a.tally);
  run_attack(a.d, 1, "bad-size", 0, "protocol", {"size field"}, a.tally);
  run_attack(a.d, 1, "short-message", 0, "protocol", {"too short"}, a.tally);
  run_attack(a.d, 1, "oversized-message", 0, "protocol", {"oversized message"}, a.tally);
  run_attack(a.d, 1, "unknown-type", 0, "protocol", {"unknown message type 77"}, a.tally);
  run_attack(a.d, 1, "doorbell-with-fds", 0, "protocol", {"DOORBELL must not carry descriptors"}, a.tally);
  run_attack(a.d, 1, "doorbell-many-fds", 0, "protocol", {"too many descriptors"}, a.tally);
  run_attack(a.d, 1, "goodbye-with-fd", 0, "protocol", {"GOODBYE must not carry descriptors"}, a.tally);
  run_attack(a.d, 1, "hello-twice", 0, "rejected", {"second HELLO"}, a.tally);
  run_attack(a.d, 1, "empty-message", 0, "closed", {}, a.tally);
  // The io thread reads every doorbell; the control socket still answers
  // promptly while the flood goes on.
  run_attack(a.d, 1, "doorbell-flood", 0, "served", {}, a.tally, [&](Process& client) {
    REQUIRE(wait_for([&] { return !phase(client.out(), "flooding").is_null() || !client.running(); }, 30s));
    const auto t0 = std::chrono::steady_clock::now();
    const json s = ctl_json(a.d, "stats");
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 5s);
    CHECK(u64(s, "clients_current") == 2);
  });
  a.finish();
}

TEST_CASE("hostile client: unsealed, shrinkable, oversized or wrong-kind descriptors are refused at HELLO") {
  Arena a;
  const std::vector<std::pair<std::string, std::vector<std::string>>> fixed = {
      {"unsealed-memfd", {"not sealed against shrink and grow"}},
      {"grow-sealed-only", {"not sealed against shrink and grow"}},
      {"shrink-sealed-only", {"not sealed against shrink and grow"}},
      {"write-sealed-memfd", {"mapping segment"}},
      {"readonly-fd", {"mapping segment"}},
      {"pipe-fd", {"not a memfd"}},
      {"socket-fd", {"not a memfd"}},
      {"dev-zero-fd", {"not a memfd"}},
      {"file-fd", {}},  // "not a sealable memfd" on disk, "not sealed" on a tmpfs TMPDIR
      {"empty-memfd", {"memfd is empty"}},
      {"oversized-segment", {"exceeds the limit"}},
      {"size-mismatch", {"HELLO says"}},
  };
  for (const auto& [attack, reason] : fixed) run_attack(a.d, 1, attack, 0, "rejected", reason, a.tally);
  for (std::uint64_t seed = 0; seed < 24; ++seed) run_attack(a.d, 1, "bad-header", seed, "rejected", {}, a.tally);
  run_attack(a.d, 1, "hello-no-fd", 0, "protocol", {"exactly one descriptor, got 0"}, a.tally);
  run_attack(a.d, 1, "hello-two-fds", 0, "protocol", {"exactly one descriptor, got 2"}, a.tally);
  CHECK(a.tally.live_runs == 0);
  a.finish();
}

TEST_CASE("hostile client: a client's segment cannot be opened by another user") {
  // A memfd has no name in any file system; the only way in is the owner's
  // /proc/PID/fd/N, which the kernel guards like ptrace. The test runs as
  // root (CI does) to switch to another uid.
  if (::geteuid() != 0) {
    WARN("not root: cannot create a user and switch to it; skipped");
    return;
  }
  DaemonFixture d;
  const preroll::test::TestUser other(d.dir.path());
  REQUIRE(::chmod(d.dir.path().c_str(), 0755) == 0);
  GoodClient good(d);
  // The segment: the client's descriptor whose link names a memfd.
  const std::string fd_dir = "/proc/" + std::to_string(good.pid()) + "/fd";
  std::string segment;
  for (const auto& e : std::filesystem::directory_iterator(fd_dir)) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.find("memfd:preroll-segment") != std::string::npos) segment = e.path().string();
  }
  INFO("client descriptors: " << fd_dir);
  REQUIRE(!segment.empty());
  // Sanity: the owner (root here) opens it through /proc.
  CHECK(std::ifstream(segment).good());
  // Another user cannot, neither to read nor to write.
  const auto as_other = [&](const std::string& shell) { return other.run("/bin/sh", {"-c", shell}); };
  const auto read_try = as_other("head -c 16 " + segment + " > /dev/null");
  INFO("read as " << other.name() << ": " << read_try.err);
  CHECK(read_try.status != 0);
  CHECK_THAT(read_try.err, Catch::Contains("Permission denied"));
  const auto write_try = as_other("printf x >> " + segment);
  INFO("write as " << other.name() << ": " << write_try.err);
  CHECK(write_try.status != 0);
  // And nothing of it shows in a shared-memory file system.
  for (const char* dir : {"/dev/shm", "/run/shm"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      CHECK(e.path().filename().string().find("preroll") == std::string::npos);
  }
  Tally none;
  end_checks(d, good, none);
}
