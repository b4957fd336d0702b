// LogThrottle: one line per interval for events anyone can repeat, and the
// next line says how many were held back.
#include <catch2/catch.hpp>

#include "log_throttle.hpp"

using preroll::daemon::LogThrottle;
using namespace std::chrono_literals;

TEST_CASE("log throttle: the first occurrence is logged, the rest of the second only counted, then summed up") {
  LogThrottle t;
  const auto t0 = LogThrottle::Clock::time_point{} + 100s;
  std::uint64_t held = 99;
  REQUIRE(t.admit(held, t0));
  CHECK(held == 0);
  for (int i = 1; i <= 500; ++i) CHECK_FALSE(t.admit(held, t0 + i * 1ms));
  REQUIRE(t.admit(held, t0 + 1s));
  CHECK(held == 500);
  CHECK(LogThrottle::note(held) == "; 500 more since the last report");
  REQUIRE(t.admit(held, t0 + 5s));  // quiet since: nothing held back
  CHECK(held == 0);
  CHECK(LogThrottle::note(held).empty());
}

TEST_CASE("log throttle: a flood of a minute costs one line a second") {
  LogThrottle t;
  const auto t0 = LogThrottle::Clock::time_point{} + 100s;
  std::uint64_t held = 0, lines = 0, represented = 0;
  for (int ms = 0; ms < 60000; ms += 2) {
    if (t.admit(held, t0 + std::chrono::milliseconds(ms))) {
      ++lines;
      represented += 1 + held;
    }
  }
  CHECK(lines == 60);
  CHECK(represented + 499 == 30000);  // all but the last second's held-back ones were reported
}
