#include "preroll/shm/tsc.hpp"

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if PREROLL_HAVE_TSC
#include <cpuid.h>
#endif

namespace preroll::shm {

std::uint64_t monotonic_now_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

bool tsc_is_reliable() noexcept {
  if (const char* forced = std::getenv("PREROLL_CLOCK")) {
    if (std::strcmp(forced, "monotonic") == 0) return false;
    if (std::strcmp(forced, "tsc") == 0) return PREROLL_HAVE_TSC != 0;
  }
#if PREROLL_HAVE_TSC
  // The branches excluded below go the way the test machine's CPU and kernel
  // clocksource go: not the tests' to choose.
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000007u) return false;  // GCOVR_EXCL_BR_LINE
  __get_cpuid(0x80000007u, &a, &b, &c, &d);
  if ((d & (1u << 8)) == 0) return false;  // not invariant  GCOVR_EXCL_BR_LINE
  char source[32] = {};
  if (FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re")) {  // GCOVR_EXCL_BR_LINE
    if (std::fgets(source, sizeof source, f) == nullptr) source[0] = '\0';  // GCOVR_EXCL_BR_LINE
    std::fclose(f);
  }
  return std::strncmp(source, "tsc", 3) == 0;
#else
  return false;
#endif
}

ClockPair read_clock_pair() noexcept {
  ClockPair best;
  std::uint64_t best_gap = ~std::uint64_t{0};
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t t1 = read_tsc();
    const std::uint64_t ns = monotonic_now_ns();
    const std::uint64_t t2 = read_tsc();
    if (t2 - t1 < best_gap) {
      best_gap = t2 - t1;
      best.tsc = t1 + (t2 - t1) / 2;
      best.monotonic_ns = ns;
    }
  }
  return best;
}

TscCalibration calibrate_tsc(std::uint64_t spin_ns) noexcept {
  TscCalibration cal;
  cal.reference = read_clock_pair();
  ClockPair end;
  do {
    end = read_clock_pair();
  } while (end.monotonic_ns - cal.reference.monotonic_ns < spin_ns);
  const std::uint64_t dt = end.tsc - cal.reference.tsc;
  const std::uint64_t dns = end.monotonic_ns - cal.reference.monotonic_ns;
  // No TSC (read_tsc() is 0 off x86-64, where the tests do not run): mult 0
  // marks the calibration unusable.
  if (dt == 0) return cal;  // GCOVR_EXCL_BR_LINE: see above
  // mult/2^shift = ns per tick; shift 32 keeps 9+ significant digits for any
  // TSC between 100 MHz and 10 GHz, and the daemon multiplies in 128 bits.
  cal.shift = 32;
  cal.mult = static_cast<std::uint64_t>((static_cast<long double>(dns) / static_cast<long double>(dt)) *
                                        static_cast<long double>(1ull << 32));
  return cal;
}

}  // namespace preroll::shm
