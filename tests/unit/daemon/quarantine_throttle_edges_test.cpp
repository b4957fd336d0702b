// FaultQuarantine and LogThrottle at their edges: a full table that makes
// room by forgetting old faults first, processes whose start time could not
// be read, and a throttle with its own interval.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>

#include "fault_quarantine.hpp"
#include "log_throttle.hpp"

using preroll::daemon::FaultQuarantine;
using preroll::daemon::LogThrottle;
using namespace std::chrono_literals;

namespace {
const auto qedge_t0 = FaultQuarantine::Clock::time_point{} + 5000s;
auto qedge_start(std::optional<std::uint64_t> start) {
  return [start](std::uint32_t) { return start; };
}
}  // namespace

TEST_CASE("quarantine: a full table forgets faults older than an hour before anything else") {
  FaultQuarantine q;
  const std::uint32_t n = FaultQuarantine::max_entries;
  // Half the table faulted long ago, the other half recently.
  for (std::uint32_t pid = 1; pid <= n / 2; ++pid) q.record(pid, pid, qedge_t0);
  const auto later = qedge_t0 + 2h;
  for (std::uint32_t pid = n / 2 + 1; pid <= n; ++pid) q.record(pid, pid, later);
  REQUIRE(q.size() == n);
  CHECK(q.record(n + 1, 1, later + 1s) == 10s);
  CHECK(q.size() == n / 2 + 1);  // the old half is gone, every recent fault kept
  for (std::uint32_t pid : {n / 2 + 1, n - 1, n, n + 1})
    CHECK(q.remaining(pid, later + 2s, qedge_start(pid == n + 1 ? 1 : pid)) > 0s);
  // An old pid faulting again starts over.
  CHECK(q.record(1, 1, later + 3s) == 10s);
}

TEST_CASE("quarantine: a full table of recent faults drops the one whose refusal ends first") {
  FaultQuarantine q;
  const std::uint32_t n = FaultQuarantine::max_entries;
  // pid 7 is refused longest (it faulted three times), pid 1 ends first.
  for (std::uint32_t pid = 1; pid <= n; ++pid) q.record(pid, 0, qedge_t0 + std::chrono::milliseconds(pid));
  q.record(7, 0, qedge_t0 + 5s);
  CHECK(q.record(7, 0, qedge_t0 + 6s) == 40s);
  REQUIRE(q.size() == n);
  q.record(n + 1, 0, qedge_t0 + 7s);
  CHECK(q.size() == n);
  CHECK(q.remaining(1, qedge_t0 + 8s, qedge_start(0)) == 0s);  // dropped
  CHECK(q.remaining(2, qedge_t0 + 8s, qedge_start(0)) == 10s + 2ms - 8s);
  CHECK(q.remaining(7, qedge_t0 + 8s, qedge_start(0)) == 38s);
}

TEST_CASE("quarantine: a process whose start time is unknown is still recognised by its pid") {
  FaultQuarantine q;
  CHECK(q.record(50, std::nullopt, qedge_t0) == 10s);
  CHECK(q.remaining(50, qedge_t0 + 4s, qedge_start(std::nullopt)) == 6s);
  CHECK(q.record(50, std::nullopt, qedge_t0 + 5s) == 20s);  // the same unknown start: a repeat
  // Its start time readable now: another process.
  CHECK(q.remaining(50, qedge_t0 + 6s, qedge_start(123)) == 0s);
  CHECK(q.size() == 0);
  // A known start, then an unknown one: another process too.
  q.record(51, 9, qedge_t0);
  CHECK(q.record(51, std::nullopt, qedge_t0 + 1s) == 10s);
  CHECK(q.size() == 1);
}

TEST_CASE("quarantine: the start function is asked only for a pid still refused") {
  FaultQuarantine q;
  int asked = 0;
  const auto counting = [&](std::uint32_t) {
    ++asked;
    return std::optional<std::uint64_t>(3);
  };
  CHECK(q.remaining(60, qedge_t0, counting) == 0s);  // not on record
  q.record(60, 3, qedge_t0);
  CHECK(q.remaining(60, qedge_t0 + 10s, counting) == 0s);  // refusal over
  CHECK(asked == 0);
  CHECK(q.remaining(60, qedge_t0 + 9s, counting) == 1s);
  CHECK(asked == 1);
  CHECK(q.size() == 1);  // an expired entry stays, to double the next cooldown
}

TEST_CASE("quarantine: this process's start time is a number of ticks, the same every time") {
  const auto pid = static_cast<std::uint32_t>(::getpid());
  const auto mine = preroll::daemon::process_start_ticks(pid);
  REQUIRE(mine.has_value());
  CHECK(*mine > 0);
  const auto parent = preroll::daemon::process_start_ticks(static_cast<std::uint32_t>(::getppid()));
  REQUIRE(parent.has_value());
  CHECK(*parent <= *mine);  // a parent started before its child
  CHECK_FALSE(preroll::daemon::process_start_ticks(0).has_value());
}

TEST_CASE("log throttle: its own interval, and a first occurrence at any time") {
  LogThrottle t(10s);
  std::uint64_t held = 77;
  const auto start = LogThrottle::Clock::time_point{};  // the clock's epoch itself
  REQUIRE(t.admit(held, start));
  CHECK(held == 0);
  CHECK_FALSE(t.admit(held, start + 9999ms));
  CHECK_FALSE(t.admit(held, start + 1s));
  CHECK(held == 0);  // untouched while held back
  REQUIRE(t.admit(held, start + 10s));
  CHECK(held == 2);
  CHECK(LogThrottle::note(held) == "; 2 more since the last report");
  CHECK(LogThrottle::note(1) == "; 1 more since the last report");
  // An interval of zero admits everything.
  LogThrottle all(0s);
  for (int i = 0; i < 3; ++i) {
    CHECK(all.admit(held, start));
    CHECK(held == 0);
  }
}
