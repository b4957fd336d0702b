// The TSC as an event clock. Reading it costs a fraction of
// clock_gettime(CLOCK_MONOTONIC) through the vDSO, which is why clients
// stamp events with raw TSC when it is trustworthy: invariant (constant rate
// in every P/C-state: CPUID 0x80000007 EDX bit 8) and chosen by the kernel as
// its clocksource (the kernel checked it is synchronised across CPUs). Readers
// never see TSC values: the daemon converts them to CLOCK_MONOTONIC ns.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PREROLL_HAVE_TSC 1
#else
#define PREROLL_HAVE_TSC 0
#endif

namespace preroll::shm {

[[nodiscard]] inline std::uint64_t read_tsc() noexcept {
#if PREROLL_HAVE_TSC
  return __rdtsc();
#else
  return 0;
#endif
}

// True when raw TSC timestamps can be converted to CLOCK_MONOTONIC exactly
// enough: invariant TSC and the kernel's clocksource is "tsc". PREROLL_CLOCK
// ("monotonic" or "tsc") overrides the detection.
[[nodiscard]] bool tsc_is_reliable() noexcept;

// One instant read on both clocks: the TSC read in the middle of the
// tightest of several (tsc, clock_gettime, tsc) triples.
struct ClockPair {
  std::uint64_t tsc = 0;
  std::uint64_t monotonic_ns = 0;
};
[[nodiscard]] ClockPair read_clock_pair() noexcept;

// ns = ref_ns + ((tsc - ref_tsc) * mult) >> shift, the form stored in the
// segment header. Calibrated by sampling both clocks `spin_ns` apart.
struct TscCalibration {
  ClockPair reference;
  std::uint64_t mult = 0;
  std::uint32_t shift = 0;
};
[[nodiscard]] TscCalibration calibrate_tsc(std::uint64_t spin_ns) noexcept;

std::uint64_t monotonic_now_ns() noexcept;

}  // namespace preroll::shm
