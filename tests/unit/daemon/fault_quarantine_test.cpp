// FaultQuarantine: a process found faulty is refused for 10 s, twice as long
// each time it is found faulty again, never a new process that inherits its
// pid, and the table stays bounded.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>

#include "fault_quarantine.hpp"

using preroll::daemon::FaultQuarantine;
using namespace std::chrono_literals;

namespace {
const auto t0 = FaultQuarantine::Clock::time_point{} + 1000s;
auto same(std::uint64_t start) {
  return [start](std::uint32_t) { return std::optional<std::uint64_t>(start); };
}
}  // namespace

TEST_CASE("quarantine: 10 s after a first fault, doubling with each repeat up to 10 min") {
  FaultQuarantine q;
  CHECK(q.remaining(42, t0, same(7)) == 0s);
  CHECK(q.record(42, 7, t0) == 10s);
  CHECK(q.remaining(42, t0 + 1s, same(7)) == 9s);
  CHECK(q.remaining(42, t0 + 10s, same(7)) == 0s);  // over: checked afresh
  CHECK(q.remaining(43, t0 + 1s, same(7)) == 0s);   // another pid is not concerned
  auto now = t0 + 10s;
  CHECK(q.record(42, 7, now) == 20s);
  for (const auto expected : {40s, 80s, 160s, 320s, 600s, 600s}) {
    now += 1s;
    CHECK(q.record(42, 7, now) == expected);
  }
  CHECK(q.remaining(42, now + 599s, same(7)) == 1s);
}

TEST_CASE("quarantine: a new process with the recycled pid is not refused, and an hour of good behaviour forgets") {
  FaultQuarantine q;
  q.record(42, 7, t0);
  CHECK(q.remaining(42, t0 + 1s, same(8)) == 0s);  // started at another time: another process
  CHECK(q.size() == 0);
  q.record(42, 7, t0);
  q.record(42, 7, t0 + 20s);                        // 20 s
  CHECK(q.record(42, 7, t0 + 2h) == 10s);           // the last fault was long ago: a first one again
  CHECK(q.record(42, 9, t0 + 2h + 1s) == 10s);      // another process: its own first fault
}

TEST_CASE("quarantine: the table is bounded whatever the number of pids") {
  FaultQuarantine q;
  for (std::uint32_t pid = 1; pid <= FaultQuarantine::max_entries + 100; ++pid)
    q.record(pid, pid, t0 + std::chrono::milliseconds(pid));
  CHECK(q.size() == FaultQuarantine::max_entries);
  // The newest are kept.
  const std::uint32_t last = FaultQuarantine::max_entries + 100;
  CHECK(q.remaining(last, t0 + 1s, same(last)) > 0s);
}

TEST_CASE("quarantine: a process's start time comes from /proc, and differs between processes") {
  const auto mine = preroll::daemon::process_start_ticks(static_cast<std::uint32_t>(::getpid()));
  REQUIRE(mine.has_value());
  CHECK(mine == preroll::daemon::process_start_ticks(static_cast<std::uint32_t>(::getpid())));
  CHECK(preroll::daemon::process_start_ticks(1) != std::nullopt);
  CHECK(preroll::daemon::process_start_ticks(0x7FFFFFF0u) == std::nullopt);
}
