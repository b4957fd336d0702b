// Load (issue #9): 64 client processes x 4 threads emitting at full speed for
// 60 s with sparse marks, against one prerolld with its default settings.
//
// What "the daemon keeps up" means here: no client overwrote anything
// (events_overwritten == 0 in every client). It cannot on a 2-core machine:
// a thread at full speed fills a 64 KiB ring in about 0.1 ms of CPU, so the
// default 8 rings of a lane last less than one scheduler time slice, and
// the daemon only frees rings while it is on a CPU beside the emitters.
// The library then overwrites its oldest events, never blocks, and counts
// them. So the test holds the rule that is always true, per mark and
// exactly: every marked event is on disk exactly once, or the client
// counted it as overwritten (load_client.cpp says how a client knows which
// of its events were overwritten, and the test checks that attribution
// against the library's own counter). The other loss causes (nested,
// no lane, disabled, quota, write errors, corrupt rings) have no reason to
// occur here and must be zero; if no client overwrote anything, every mark
// must be on disk.
//
// The second case proves that last clause: the same 64 x 4 threads, each
// paced to PREROLL_LOAD_PACED_RATE events per second, a total the daemon
// keeps up with at its default settings on this 2-core machine
// (bench/RESULTS.md). There nothing at all may be lost: no event
// overwritten, no swap without a spare ring, every mark on disk once.
//
// Also: the daemon's RSS, sampled every second from /proc/PID/status, stays
// under 256 MiB and does not grow in the second half of the run; the control
// socket answers `stats` every second within 2 s; the daemon's counters
// agree with the files read back.
//
// Scheduling: the daemon and the clients each run in a session of their
// own (setsid), so in scheduling autogroups apart from each other and from
// the test's: the daemon as under systemd or started from another terminal
// (in the clients' group it would get about 1/257 of the CPU against the
// 256 emitters: 98 % of the events were overwritten then, and the control
// socket's slowest answer took 1.9 s); the clients so that the test's own
// wait for a CPU does not count as the daemon's answer time.
//
// Knobs (environment): PREROLL_LOAD_SECONDS (60), PREROLL_LOAD_CLIENTS (64),
// PREROLL_LOAD_THREADS (4), PREROLL_LOAD_MARK_EVERY (50000 events of a
// thread); for the paced case PREROLL_LOAD_PACED_SECONDS (30) and
// PREROLL_LOAD_PACED_RATE (events per second of a thread). Each case prints
// a JSON summary of its figures on stdout.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "daemon_fixture.hpp"
#include "preroll/atf/reader.hpp"
#include "prerollctl_runner.hpp"

using namespace std::chrono_literals;
using preroll::test::Process;
using preroll::test::TempDir;
using preroll::test::u64;
using preroll::test::wait_for;

namespace {

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  return end != v && d > 0 ? d : fallback;
}

struct Memory {
  std::uint64_t rss_kib = 0, anon_kib = 0, shmem_kib = 0;
};

std::optional<Memory> daemon_memory(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  if (!f) return std::nullopt;
  Memory m;
  std::string key;
  std::uint64_t value = 0;
  std::string line;
  while (std::getline(f, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    key = line.substr(0, colon);
    value = std::strtoull(line.c_str() + colon + 1, nullptr, 10);
    if (key == "VmRSS") m.rss_kib = value;
    if (key == "RssAnon") m.anon_kib = value;
    if (key == "RssShmem") m.shmem_kib = value;
  }
  return m;
}

struct CtlAnswer {
  bool ok = false;
  double ms = 0;
  nlohmann::json json;
  std::string error;
};

// One `stats` request as prerollctl makes it (a fresh connection, a line
// each way), timed from connect to the reply's last byte.
CtlAnswer ask_stats(const std::filesystem::path& ctl, std::chrono::milliseconds timeout) {
  CtlAnswer a;
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, ctl.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    a.error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return a;
  }
  const std::string req = "{\"cmd\":\"stats\"}\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    a.error = "send failed";
    ::close(fd);
    return a;
  }
  std::string reply;
  char buf[65536];
  while (reply.empty() || reply.back() != '\n') {
    const double left = static_cast<double>(timeout.count()) - elapsed_ms();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left) + 1) <= 0) {
      a.error = "no answer within " + std::to_string(timeout.count()) + " ms";
      break;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      a.error = "connection closed";
      break;
    }
    reply.append(buf, static_cast<std::size_t>(n));
  }
  a.ms = elapsed_ms();
  ::close(fd);
  if (!a.error.empty()) return a;
  a.json = nlohmann::json::parse(reply, nullptr, false);
  a.ok = a.json.is_object() && a.json.value("ok", false);
  if (!a.ok) a.error = "bad reply: " + reply.substr(0, 200);
  return a;
}

struct Sample {
  double t = 0;  // seconds since the start
  Memory mem;
  CtlAnswer ctl;
};

// One load run; `rate` (events per second of each thread, 0: full speed),
// a mark every `mark_every` events of a thread. With `must_keep_up`, no
// client may lose anything: the load is one the daemon keeps up with, so
// every drop counter must stay at zero.
void run_load(double seconds, double rate, std::uint64_t mark_every, bool must_keep_up) {
  const auto clients_n = static_cast<unsigned>(env_number("PREROLL_LOAD_CLIENTS", 64));
  const auto threads_n = static_cast<unsigned>(env_number("PREROLL_LOAD_THREADS", 4));
  constexpr std::uint64_t kMaxRssKib = 256 * 1024;       // see the bound's justification below
  constexpr std::uint64_t kMaxGrowthKib = 16 * 1024;     // second half over its start
  constexpr double kMaxCtlMs = 2000;

  TempDir dir;
  const auto socket = dir.path() / "prerolld.sock";
  const auto ctl = dir.path() / "prerolld.ctl";
  const auto out = dir.path() / "out";
  // Default settings: only where to listen and write, and info logging.
  std::vector<std::string> argv = {PREROLLD_PATH, "--socket", socket.string(), "--output-dir", out.string(),
                                   "--log-level", "info"};
  // setsid(1) execs in place (a spawned child is no group leader): the pid is prerolld's.
  argv.insert(argv.begin(), "/usr/bin/setsid");
  Process daemon(argv, {}, dir.path() / "prerolld.out", dir.path() / "prerolld.err");
  const auto log_tail = [&] {
    const auto e = daemon.err();
    return "prerolld stderr (tail):\n" + (e.size() > 4000 ? e.substr(e.size() - 4000) : e);
  };
  REQUIRE(wait_for([&] { return ask_stats(ctl, 1s).ok || !daemon.running(); }, 10s));
  {
    INFO(log_tail());
    REQUIRE(daemon.running());
  }
  REQUIRE(preroll::test::read_file("/proc/" + std::to_string(daemon.pid()) + "/comm") == "prerolld\n");

  // The clients wait for the start file, so they all begin together. They
  // run in a session of their own too, started by one shell: this process,
  // the observer, is then not in their scheduling group, and its own wait
  // for a CPU does not count as the daemon's answer time (beside the 256
  // emitters, answers measured up to 1.4 s; apart from them, under 10 ms).
  // Each client's exit status goes to client.N.rc.
  const auto go = dir.path() / "go";
  const std::string launch =
      "n=$1; d=$2; shift 2; i=0; while [ $i -lt $n ]; do "
      "( \"$@\" >$d/client.$i.out 2>$d/client.$i.err; echo $? >$d/client.$i.rc ) & i=$((i + 1)); done; wait";
  Process launcher({"/usr/bin/setsid", "/bin/sh", "-c", launch, "sh", std::to_string(clients_n), dir.path().string(),
                    LOAD_CLIENT_PATH, std::to_string(threads_n), std::to_string(seconds), std::to_string(mark_every),
                    "64", go.string(), std::to_string(rate)},
                   {"PREROLL_SOCKET=" + socket.string()}, dir.path() / "launcher.out", dir.path() / "launcher.err");
  // On a failed REQUIRE the clients go too: the launcher leads their process group.
  struct KillGroup {
    pid_t pgid;
    bool armed = true;
    ~KillGroup() {
      if (armed) ::kill(-pgid, SIGKILL);
    }
  } kill_clients{launcher.pid()};
  REQUIRE(wait_for(
      [&] {
        for (unsigned i = 0; i < clients_n; ++i)
          if (!std::filesystem::exists(dir.path() / ("client." + std::to_string(i) + ".err"))) return false;
        return true;
      },
      30s));
  const std::optional<Memory> mem_before = daemon_memory(daemon.pid());
  { std::ofstream(go) << "go\n"; }
  const auto t0 = std::chrono::steady_clock::now();
  const auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

  // Once a second until every client has exited: the daemon's memory and one
  // control request. (The period of a sampler, not a wait for a condition.)
  std::vector<Sample> samples;
  double all_attached_at = -1;
  const auto give_up = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(seconds + 120));
  for (auto tick = t0;; tick += 1s) {
    std::this_thread::sleep_until(tick);
    Sample s;
    s.t = since();
    if (const auto m = daemon_memory(daemon.pid())) s.mem = *m;
    s.ctl = ask_stats(ctl, 10s);
    if (all_attached_at < 0 && s.ctl.ok && u64(s.ctl.json, "clients_attached_total") == clients_n)
      all_attached_at = s.t;
    samples.push_back(std::move(s));
    if (!launcher.running() || std::chrono::steady_clock::now() > give_up || !daemon.running()) break;
  }
  const double load_seconds = since();
  REQUIRE(daemon.running());
  REQUIRE(launcher.wait(10s).has_value());
  kill_clients.armed = false;  // the launcher waited for every client
  for (unsigned i = 0; i < clients_n; ++i) {
    const auto base = dir.path() / ("client." + std::to_string(i));
    INFO("client " << i << " stderr: " << preroll::test::read_file(base.string() + ".err"));
    REQUIRE(preroll::test::read_file(base.string() + ".rc") == "0\n");
  }

  // Every client's last windows decided and written, its file closed.
  const bool drained = wait_for(
      [&] {
        const auto a = ask_stats(ctl, 10s);
        return a.ok && u64(a.json, "clients_attached_total") == clients_n &&
               u64(a.json, "clients_detached_total") == clients_n;
      },
      120s);
  const double drain_seconds = since() - load_seconds;
  {
    INFO(log_tail());
    REQUIRE(drained);
  }
  // The real prerollctl too, for the final counters.
  const auto final_ctl = preroll::test::prerollctl(dir.path(), {"--socket", socket.string(), "--json", "stats"});
  INFO("prerollctl stats: " << final_ctl.out << final_ctl.err);
  REQUIRE(final_ctl.status == 0);
  const auto stats = nlohmann::json::parse(final_ctl.out);
  daemon.signal(SIGTERM);
  const auto daemon_status = daemon.wait(60s);
  REQUIRE(daemon_status.has_value());
  CHECK(preroll::test::exit_code(*daemon_status) == 0);

  // What the clients say they emitted and lost.
  std::vector<nlohmann::json> reports;
  for (unsigned i = 0; i < clients_n; ++i)
    reports.push_back(preroll::test::DaemonFixture::last_json_line(
        preroll::test::read_file(dir.path() / ("client." + std::to_string(i) + ".out"))));

  // The files, read back one window at a time (they can hold a GB of events).
  const auto t_read = std::chrono::steady_clock::now();
  std::unordered_map<std::string, int> marks_on_disk;  // "mark pid/tid/seq" -> copies
  std::uint64_t windows_read = 0, events_read = 0, marked_events_read = 0, files_read = 0, bad_files = 0;
  std::uint64_t foreign_marks = 0;  // a mark in the file of another pid
  std::map<std::string, std::uint64_t> windows_by_reason;
  std::uint64_t file_bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    if (e.path().extension() != ".atf") continue;
    ++files_read;
    file_bytes += std::filesystem::file_size(e.path());
    auto reader = preroll::atf::Reader::open(e.path());
    const std::string pid_prefix = "mark " + std::to_string(reader->header().pid) + "/";
    preroll::atf::ReadWindow w;
    while (reader->next(w)) {
      ++windows_read;
      ++windows_by_reason[std::string(preroll::atf::to_string(w.meta.reason))];
      events_read += w.events.size();
      for (const auto& ev : w.events) {
        if ((ev.flags & (preroll::atf::event_flags::client_marked | preroll::atf::event_flags::policy_marked)) != 0)
          ++marked_events_read;
        if (ev.message.rfind("mark ", 0) != 0) continue;
        if (ev.message.rfind(pid_prefix, 0) != 0) ++foreign_marks;
        ++marks_on_disk[ev.message];
      }
    }
    if (reader->status().reason != preroll::atf::StopReason::clean_end) ++bad_files;
  }
  const double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();

  // The accounting, mark by mark.
  std::uint64_t events = 0, marks = 0, overwritten = 0, swaps_without_spare = 0, written = 0;
  std::uint64_t nested = 0, no_lane = 0, disabled = 0, truncated = 0;
  std::uint64_t marks_persisted = 0, marks_counted_lost = 0, marks_overwritten_after_written = 0;
  std::uint64_t marks_uncounted = 0, duplicates = 0, bad_mark_counts = 0, unattributed = 0, not_connected = 0;
  std::vector<std::string> uncounted_examples;
  std::unordered_set<std::string> emitted;
  for (const auto& r : reports) {
    const auto pid = r.at("pid").get<long>();
    events += u64(r, "events");
    marks += u64(r, "marks");
    overwritten += u64(r, "overwritten");
    swaps_without_spare += u64(r, "swaps_without_spare");
    written += u64(r, "events_written");
    nested += u64(r, "dropped_nested");
    no_lane += u64(r, "dropped_no_lane");
    disabled += u64(r, "dropped_disabled");
    truncated += u64(r, "truncated");
    if (!r.at("connected_at_end").get<bool>()) ++not_connected;
    std::uint64_t attributed_overwritten = 0;
    if (!r.at("attributed").get<bool>()) ++unattributed;
    for (const auto& t : r.at("threads")) {
      const auto tid = t.at("tid").get<long>();
      const std::uint64_t t_events = u64(t, "events"), t_marks = u64(t, "marks");
      if (t_marks != t_events / mark_every) ++bad_mark_counts;
      if (u64(t, "overwritten") != u64(t, "lane_overwritten")) ++unattributed;
      attributed_overwritten += u64(t, "overwritten");
      std::unordered_set<std::uint64_t> lost;
      for (const auto& m : t.at("marks_overwritten")) lost.insert(m.get<std::uint64_t>());
      for (std::uint64_t k = 1; k <= t_marks; ++k) {
        const std::uint64_t seq = k * mark_every - 1;
        const std::string id = "mark " + std::to_string(pid) + "/" + std::to_string(tid) + "/" + std::to_string(seq);
        emitted.insert(id);
        const auto it = marks_on_disk.find(id);
        const int copies = it == marks_on_disk.end() ? 0 : it->second;
        if (copies > 1) ++duplicates;
        if (copies >= 1) {
          ++marks_persisted;
          // Written by --flush-after from the active ring, then evicted: on disk all the same.
          if (lost.count(seq) != 0) ++marks_overwritten_after_written;
        } else if (lost.count(seq) != 0) {
          ++marks_counted_lost;
        } else {
          ++marks_uncounted;
          if (uncounted_examples.size() < 10) uncounted_examples.push_back(id);
        }
      }
    }
    // The threads' attribution covers everything the library counted.
    if (attributed_overwritten != u64(r, "overwritten")) ++unattributed;
  }
  std::uint64_t unknown_marks = 0;
  for (const auto& [id, n] : marks_on_disk)
    if (emitted.count(id) == 0) unknown_marks += static_cast<std::uint64_t>(n);

  // Memory and control figures.
  std::uint64_t rss_max = 0, anon_max = 0, shmem_max = 0;
  std::uint64_t anon_at_half = 0, rss_at_half = 0, anon_max_second_half = 0, rss_max_second_half = 0;
  double ctl_max = 0;
  std::uint64_t ctl_failed = 0, ctl_slow = 0;
  std::vector<double> ctl_ms;
  std::string ctl_errors;
  for (const auto& s : samples) {
    rss_max = std::max(rss_max, s.mem.rss_kib);
    anon_max = std::max(anon_max, s.mem.anon_kib);
    shmem_max = std::max(shmem_max, s.mem.shmem_kib);
    if (s.t <= seconds / 2) {
      anon_at_half = s.mem.anon_kib;
      rss_at_half = s.mem.rss_kib;
    } else if (s.t <= seconds) {
      anon_max_second_half = std::max(anon_max_second_half, s.mem.anon_kib);
      rss_max_second_half = std::max(rss_max_second_half, s.mem.rss_kib);
    }
    if (!s.ctl.ok) {
      ++ctl_failed;
      ctl_errors += s.ctl.error + "; ";
    }
    if (s.ctl.ms > kMaxCtlMs) ++ctl_slow;
    ctl_max = std::max(ctl_max, s.ctl.ms);
    ctl_ms.push_back(s.ctl.ms);
  }
  std::sort(ctl_ms.begin(), ctl_ms.end());
  const double ctl_p50 = ctl_ms.empty() ? 0 : ctl_ms[ctl_ms.size() / 2];
  const bool kept_up = overwritten == 0;

  nlohmann::json summary = {
      {"setup",
       {{"clients", clients_n}, {"threads_per_client", threads_n}, {"seconds", seconds}, {"mark_every", mark_every},
        {"message_bytes", 64}, {"rate_per_thread", rate}}},
      {"clients",
       {{"events", events},
        {"events_per_second", static_cast<std::uint64_t>(static_cast<double>(events) / seconds)},
        {"events_overwritten", overwritten},
        {"overwritten_percent", events ? 100.0 * static_cast<double>(overwritten) / static_cast<double>(events) : 0},
        {"swaps_without_spare", swaps_without_spare},
        {"dropped", {{"nested", nested}, {"no_lane", no_lane}, {"disabled", disabled}}},
        {"truncated", truncated}}},
      {"marks",
       {{"emitted", marks},
        {"persisted", marks_persisted},
        {"lost_counted_overwritten", marks_counted_lost},
        {"persisted_then_overwritten", marks_overwritten_after_written},
        {"lost_uncounted", marks_uncounted},
        {"duplicates", duplicates},
        {"unknown_on_disk", unknown_marks}}},
      {"daemon_kept_up", kept_up},
      {"daemon",
       {{"windows_seen", u64(stats, "windows_seen")},
        {"windows_persisted", u64(stats, "windows_persisted")},
        {"windows_discarded", u64(stats, "windows_discarded")},
        {"events_seen", u64(stats, "events_seen")},
        {"events_marked", u64(stats, "events_marked")},
        {"decision_latency_p99_us", stats.value("decision_latency_p99_us", 0.0)},
        {"files_created", u64(stats, "files_created")},
        {"disk_usage_bytes", u64(stats, "disk_usage_bytes")},
        {"all_attached_after_s", all_attached_at},
        {"drain_after_load_s", drain_seconds}}},
      {"files", {{"files", files_read}, {"bytes", file_bytes}, {"windows", windows_read}, {"events", events_read},
                 {"by_reason", windows_by_reason}, {"read_seconds", read_seconds}}},
      {"rss_kib",
       {{"before", mem_before ? mem_before->rss_kib : 0},
        {"max", rss_max},
        {"max_anon", anon_max},
        {"max_shmem", shmem_max},
        {"at_half", rss_at_half},
        {"max_second_half", rss_max_second_half},
        {"anon_at_half", anon_at_half},
        {"anon_max_second_half", anon_max_second_half}}},
      {"control",
       {{"requests", samples.size()}, {"failed", ctl_failed}, {"over_2s", ctl_slow}, {"p50_ms", ctl_p50},
        {"max_ms", ctl_max}}},
      {"load_seconds", load_seconds}};
  std::cout << "load summary: " << summary.dump() << std::endl;
  INFO("summary: " << summary.dump(1));
  INFO(log_tail());

  // (a) Every marked event accounted for, one by one.
  CHECK(unattributed == 0);       // each client knows which events it overwrote, all of them
  CHECK(bad_mark_counts == 0);
  CHECK(marks_uncounted == 0);    // none lost without being counted
  INFO("uncounted: " << nlohmann::json(uncounted_examples).dump());
  CHECK(duplicates == 0);
  CHECK(unknown_marks == 0);
  CHECK(foreign_marks == 0);
  CHECK(marks_persisted + marks_counted_lost == marks);
  CHECK(marks > 0);
  CHECK(marks_persisted > 0);
  // No cause but overwriting has a reason to occur here.
  CHECK(nested == 0);
  CHECK(no_lane == 0);
  CHECK(disabled == 0);
  CHECK(truncated == 0);
  CHECK(not_connected == 0);
  CHECK(written == events);
  if (kept_up) CHECK(marks_persisted == marks);
  if (must_keep_up) {
    CHECK(overwritten == 0);
    CHECK(swaps_without_spare == 0);
    CHECK(marks_persisted == marks);
  }
  // (d) The daemon's counters agree with the clients' and with the files.
  CHECK(u64(stats, "clients_attached_total") == clients_n);
  CHECK(u64(stats, "clients_faulty") == 0);
  CHECK(u64(stats, "protocol_errors") == 0);
  CHECK(u64(stats, "rings_corrupt") == 0);
  CHECK(u64(stats, "windows_failed") == 0);
  CHECK(u64(stats, "windows_dropped_quota") == 0);
  CHECK(u64(stats, "write_errors") == 0);
  CHECK(u64(stats, "events_captured") == written);
  CHECK(stats.at("events_lost").at("overwritten").get<std::uint64_t>() == overwritten);
  CHECK(u64(stats, "windows_persisted") == windows_read);
  CHECK(u64(stats, "events_persisted") == events_read);
  CHECK(u64(stats, "events_marked") == marked_events_read);
  CHECK(marked_events_read == marks_persisted);
  CHECK(bad_files == 0);
  // (b) RSS. What the daemon maps and touches is bounded by construction:
  // the rings it reads (64 clients x 4 lanes x 8 rings x 64 KiB = 128 MiB of
  // the clients' shared memory, counted in its RSS as RssShmem) plus a copy
  // buffer, window views and a compressor per client (about 0.7 MiB each,
  // RssAnon). 256 MiB leaves the rest for the allocator's slack; growth in
  // the second half would be a leak.
  CHECK(rss_max < kMaxRssKib);
  CHECK(anon_max_second_half <= anon_at_half + kMaxGrowthKib);
  CHECK(rss_max_second_half <= rss_at_half + kMaxGrowthKib);
  // (c) The control socket answered every second, each within 2 s.
  INFO("control errors: " << ctl_errors);
  CHECK(ctl_failed == 0);
  CHECK(ctl_slow == 0);
  CHECK(samples.size() >= static_cast<std::size_t>(seconds) - 1);
}

}  // namespace

TEST_CASE("load: 64 clients x 4 threads at full speed for 60 s with sparse marks: every mark persisted or counted, "
          "RSS bounded, control socket answers",
          "[.load]") {
  run_load(env_number("PREROLL_LOAD_SECONDS", 60), 0,
           static_cast<std::uint64_t>(env_number("PREROLL_LOAD_MARK_EVERY", 50000)), false);
}

// The same clients paced to a total the daemon keeps up with at its default
// settings: 5000 events per second of each thread, 1.28 M/s in all, a
// quarter of the 5.1 M/s at which 0.5 % were overwritten here
// (bench/RESULTS.md). Then nothing at all may be lost — no event
// overwritten, every mark on disk. A mark every 2 s of a thread: every
// client has written windows (and allocated what that takes) well before
// the half-time RSS sample.
TEST_CASE("load: 64 clients x 4 threads at a rate the daemon keeps up with: no drop counter moves, every mark on disk",
          "[.load]") {
  const double rate = env_number("PREROLL_LOAD_PACED_RATE", 5000);
  run_load(env_number("PREROLL_LOAD_PACED_SECONDS", 30), rate, static_cast<std::uint64_t>(2 * rate), true);
}
