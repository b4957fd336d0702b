// End to end: the real prerolld on a temporary socket and directory, the real
// preroll-gen emitting through libpreroll, and the ATF files read back with
// the ATF reader.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "preroll/atf/reader.hpp"
#include "daemon_fixture.hpp"
#include "preroll/shm/tsc.hpp"

using namespace std::chrono_literals;
using preroll::test::DaemonFixture;
using preroll::test::Process;
using preroll::test::read_all;
using preroll::test::Readback;
using preroll::test::TempDir;

namespace {

std::string mark_prefix(unsigned thread, unsigned long long seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "t%02u seq=%010llu ERROR", thread, seq);
  return buf;
}

}  // namespace

TEST_CASE("sparse marks: every marked event is on disk, every window holds one, under 20% of bytes kept") {
  DaemonFixture d({"--trigger", "ERROR", "--pre-roll", "0", "--post-roll", "0"});  // the strict rule
  const std::uint64_t t_begin = preroll::shm::monotonic_now_ns();
  const unsigned threads = 2;
  // 2 x 40000 events of 88 bytes fit in the 64-ring pool (see DaemonFixture).
  const unsigned long long events = 40000, mark_every = 10000;
  const auto summary = d.run_client({PREROLL_GEN_PATH, "--threads", std::to_string(threads), "--events", std::to_string(events),
                                  "--message-size", "64", "--mark-every", std::to_string(mark_every), "--rate",
                                  "250000"});
  d.stop();
  const std::uint64_t t_end = preroll::shm::monotonic_now_ns();
  INFO("preroll-gen summary: " << summary.dump());
  REQUIRE(summary["events"].get<std::uint64_t>() == threads * events);
  REQUIRE(summary["marked"].get<std::uint64_t>() == threads * (events / mark_every));
  // The precondition of "every marked event is present": nothing was lost
  // to overwrite (the daemon kept up with the paced generator).
  REQUIRE(summary["events_overwritten"].get<std::uint64_t>() == 0);
  REQUIRE(summary["events_dropped"].get<std::uint64_t>() == 0);

  const auto files = d.files();
  REQUIRE(files.size() == 1);
  const Readback r = read_all(files);
  REQUIRE_FALSE(r.windows.empty());
  for (const auto& st : r.statuses) CHECK(st.reason == preroll::atf::StopReason::clean_end);

  std::set<std::string> found;
  for (const auto& w : r.windows) {
    bool has_mark = false;
    for (const auto& e : w.events) {
      if (e.message.find("ERROR") != std::string::npos) {
        has_mark = true;
        found.insert(e.message.substr(0, mark_prefix(0, 0).size()));
        CHECK((e.flags & preroll::atf::event_flags::policy_marked) != 0);
      }
    }
    INFO("window " << w.meta.window_id << " reason " << preroll::atf::to_string(w.meta.reason));
    CHECK(has_mark);
    // Timestamps (raw TSC in the rings when reliable) reach the file as
    // CLOCK_MONOTONIC ns within the run.
    CHECK(w.meta.start_ns >= t_begin);
    CHECK(w.meta.end_ns <= t_end);
    CHECK(w.meta.start_ns <= w.meta.end_ns);
    CHECK(w.meta.marked_count > 0);
    CHECK(w.meta.event_count == w.events.size());
    REQUIRE(w.meta.patterns.size() == 1);
    CHECK(w.meta.patterns[0].pattern_id == 0);
  }
  for (unsigned t = 0; t < threads; ++t)
    for (unsigned long long i = mark_every - 1; i < events; i += mark_every) {
      INFO("marked event " << mark_prefix(t, i));
      CHECK(found.count(mark_prefix(t, i)) == 1);
    }
  const double kept = static_cast<double>(r.message_bytes) / summary["bytes"].get<double>();
  INFO("kept " << r.message_bytes << " of " << summary["bytes"].get<std::uint64_t>() << " message bytes");
  CHECK(kept < 0.20);
  CHECK(kept > 0.0);
}

TEST_CASE("marking off: every window is persisted with every event") {
  DaemonFixture d({"--marking", "off"});
  const auto summary =
      d.run_client({PREROLL_GEN_PATH, "--threads", "2", "--events", "20000", "--message-size", "48", "--rate", "200000"});
  d.stop();
  REQUIRE(summary["events_overwritten"].get<std::uint64_t>() == 0);
  const Readback r = read_all(d.files());
  CHECK(r.events == summary["events"].get<std::uint64_t>());
  for (const auto& w : r.windows) CHECK(w.meta.reason == preroll::atf::KeepReason::capture_all);
}

TEST_CASE("client-marked events keep their window with no trigger configured") {
  DaemonFixture d;
  const auto summary = d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "30000", "--message-size", "64", "--mark-every",
                                  "15000", "--client-mark", "--rate", "200000"});
  d.stop();
  REQUIRE(summary["events_overwritten"].get<std::uint64_t>() == 0);
  const Readback r = read_all(d.files());
  REQUIRE_FALSE(r.windows.empty());
  std::uint64_t client_marked = 0;
  for (const auto& w : r.windows)
    for (const auto& e : w.events)
      if (e.flags & preroll::atf::event_flags::client_marked) ++client_marked;
  CHECK(client_marked == 2);
  CHECK(r.events < summary["events"].get<std::uint64_t>() / 2);
}

TEST_CASE("no marked event: nothing is written at all") {
  DaemonFixture d({"--trigger", "NEVER-MATCHES"});
  const auto summary = d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--rate", "200000"});
  d.stop();
  CHECK(summary["events"].get<std::uint64_t>() == 20000);
  CHECK(d.files().empty());
}

TEST_CASE("bad options exit 1 with a message naming the option") {
  TempDir dir;
  Process p({PREROLLD_PATH, "--marking", "sometimes"}, {}, dir.path() / "o", dir.path() / "e");
  const auto st = p.wait(10s);
  REQUIRE(st.has_value());
  CHECK(preroll::test::exit_code(*st) == 1);
  CHECK(p.err().find("--marking") != std::string::npos);
}

TEST_CASE("an invalid regex with --strict-patterns stops startup naming the pattern, the error and its offset") {
  TempDir dir;
  Process p({PREROLLD_PATH, "--socket", (dir.path() / "s").string(), "--output-dir", (dir.path() / "out").string(),
             "--trigger", "re:(abc", "--strict-patterns"},
            {}, dir.path() / "o", dir.path() / "e");
  const auto st = p.wait(10s);
  REQUIRE(st.has_value());
  INFO(p.err());
  CHECK(preroll::test::exit_code(*st) == 1);
  CHECK(p.err().find("--trigger") != std::string::npos);
  CHECK(p.err().find("\"(abc\"") != std::string::npos);
  CHECK(p.err().find("missing closing parenthesis at offset 4") != std::string::npos);
}

TEST_CASE("default pre-roll and post-roll keep one window before and one after each mark") {
  DaemonFixture d;  // defaults: --pre-roll 1 --post-roll 1, trigger level error
  const auto summary = d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "40000", "--mark-every",
                                     "20000", "--rate", "200000"});
  d.stop();
  REQUIRE(summary["events_overwritten"].get<std::uint64_t>() == 0);
  const Readback r = read_all(d.files());
  std::map<preroll::atf::KeepReason, int> reasons;
  for (const auto& w : r.windows) ++reasons[w.meta.reason];
  // Two marks, far apart: each marked window with its neighbours. The second
  // mark is the last event: no window follows it.
  CHECK(reasons[preroll::atf::KeepReason::marked] == 2);
  CHECK(reasons[preroll::atf::KeepReason::pre_roll] == 2);
  CHECK(reasons[preroll::atf::KeepReason::post_roll] == 1);
  CHECK(r.windows.size() == 5);
  // Windows of the lane are in order and never overlap.
  for (std::size_t i = 1; i < r.windows.size(); ++i)
    CHECK(r.windows[i - 1].meta.end_ns < r.windows[i].meta.start_ns);
}
