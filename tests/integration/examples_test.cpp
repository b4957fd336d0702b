// The integration examples (examples/c_api, examples/spdlog,
// examples/python) run against a real prerolld: each records a long run of
// ordinary events with one failure in it, and only the windows around the
// failure reach the file — the failing event, the events that led up to it,
// nothing from far before.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"

using namespace std::chrono_literals;
using preroll::test::all_clients_detached;
using preroll::test::ctl_json;
using preroll::test::DaemonFixture;
using preroll::test::read_all;
using preroll::test::Readback;
using preroll::test::wait_for;

namespace {

const preroll::atf::StoredEvent* find_event(const Readback& r, const std::string& text) {
  for (const auto& w : r.windows)
    for (const auto& e : w.events)
      if (e.message.find(text) != std::string::npos) return &e;
  return nullptr;
}

// Every client detached and its windows decided; returns the daemon's stats.
nlohmann::json settled_stats(DaemonFixture& d) {
  REQUIRE(wait_for([&] { return all_clients_detached(d); }, 30s));
  return ctl_json(d, "stats");
}

// Few windows kept out of many seen: the daemon kept the failure's
// neighbourhood and discarded the rest.
void check_selective(const nlohmann::json& stats, std::size_t windows_in_files) {
  INFO(stats.dump(2));
  const auto seen = stats["windows_seen"].get<std::uint64_t>();
  const auto persisted = stats["windows_persisted"].get<std::uint64_t>();
  CHECK(seen >= 20);
  CHECK(persisted >= 1);
  CHECK(persisted <= 4);  // the marked window, pre-roll, post-roll, a flushed remainder
  CHECK(stats["windows_discarded"].get<std::uint64_t>() >= seen - 2 * persisted);
  CHECK(windows_in_files == persisted);
}

}  // namespace

TEST_CASE("examples: the C11 example's marked failure is kept with its lead-up and binary payloads intact",
          "[examples]") {
  DaemonFixture d;
  d.client_env = {"PREROLL_RING_SIZE=4096"};  // ~40 windows for 1000 jobs
  const auto counters = d.run_client({C_API_EXAMPLE_PATH, "1000", "700"});
  INFO(counters.dump());
  CHECK(counters["events_written"] == 3000);
  CHECK(counters["events_overwritten"] == 0);
  CHECK(counters["events_dropped_disabled"] == 0);
  CHECK(counters["daemon_connected"] == 1);

  const auto stats = settled_stats(d);
  const auto r = read_all(d.files());
  check_selective(stats, r.windows.size());

  const auto* failure = find_event(r, "job 700: checksum mismatch, giving up");
  REQUIRE(failure != nullptr);
  CHECK(failure->name == "job");
  CHECK(failure->level == 4);  // error, as passed to preroll_mark_n
  CHECK((failure->flags & preroll::atf::event_flags::client_marked) != 0);
  CHECK(find_event(r, "job 700: fetch 4 KiB from cache") != nullptr);
  CHECK(find_event(r, "job 699: done in 3 ms") != nullptr);
  CHECK(find_event(r, "job 100: done") == nullptr);

  // preroll_emit_n kept the binary frame of job 700 byte for byte.
  const std::string frame("\x50\x52\x00\x01\xbc\x00\xfe\xff", 8);  // 700 & 0xff = 0xbc
  bool frame_kept = false;
  for (const auto& w : r.windows)
    for (const auto& e : w.events) frame_kept |= e.name == "frame" && e.message == frame;
  CHECK(frame_kept);
}

TEST_CASE("examples: a spdlog error line marks and persists its window", "[examples]") {
  DaemonFixture d;  // built-in policy: events at error and above are marked
  d.client_env = {"PREROLL_RING_SIZE=4096"};
  const auto counters = d.run_client({SPDLOG_EXAMPLE_PATH, "2000", "1500"});
  INFO(counters.dump());
  CHECK(counters["events_written"] == 4001);
  CHECK(counters["events_overwritten"] == 0);

  const auto stats = settled_stats(d);
  const auto r = read_all(d.files());
  check_selective(stats, r.windows.size());
  CHECK(stats["events_marked"] == 1);

  const auto* error = find_event(r, "request 1500: inventory service returned 503, order not placed");
  REQUIRE(error != nullptr);
  CHECK(error->name == "checkout");  // the logger's name
  CHECK(error->level == 4);          // spdlog err -> preroll error
  CHECK((error->flags & preroll::atf::event_flags::policy_marked) != 0);
  const auto* before = find_event(r, "request 1500: cart has");
  REQUIRE(before != nullptr);
  CHECK(before->level == 1);  // debug
  CHECK(find_event(r, "request 1499: payment authorized") != nullptr);
  CHECK(find_event(r, "request 100: ") == nullptr);
}

TEST_CASE("examples: Python binds the C API with ctypes and its marked step is kept", "[examples]") {
  DaemonFixture d;
  d.client_env = {std::string("PREROLL_LIBRARY=") + PREROLL_CLIENT_LIBRARY};
#ifdef PREROLL_SANITIZER_RUNTIME
  // A checked build: the interpreter is not instrumented, so the library's
  // sanitizer runtime goes first; CPython's own allocations at exit are not
  // this test's leaks.
  d.client_env.push_back(std::string("LD_PRELOAD=") + PREROLL_SANITIZER_RUNTIME);
  d.client_env.push_back("ASAN_OPTIONS=detect_leaks=0:halt_on_error=1");
#endif
  const auto counters = d.run_client({PYTHON3_PATH, PREROLL_SOURCE_DIR "/examples/python/preroll_ctypes.py"});
  INFO(counters.dump());
  CHECK(counters["events_written"] == 501);
  CHECK(counters["events_overwritten"] == 0);
  CHECK(counters["daemon_connected"] == 1);

  settled_stats(d);
  const auto r = read_all(d.files());
  const auto* failure = find_event(r, "step 500: disk quota exceeded");
  REQUIRE(failure != nullptr);
  CHECK(failure->name == "py.step");
  CHECK((failure->flags & preroll::atf::event_flags::client_marked) != 0);
  CHECK(find_event(r, "step 499: ok") != nullptr);
}
