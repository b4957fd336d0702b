#include "tsc_clock.hpp"

namespace preroll::daemon {

TscClock::TscClock(std::uint64_t initial_span_ns) noexcept {
  const shm::TscCalibration cal = shm::calibrate_tsc(initial_span_ns);
  first_ = cal.reference;
  latest_ = shm::read_clock_pair();
  const std::uint64_t dt = latest_.tsc - first_.tsc;
  ns_per_tick_ = dt == 0 ? 0.0
                         : static_cast<double>(latest_.monotonic_ns - first_.monotonic_ns) / static_cast<double>(dt);
}

void TscClock::refresh() noexcept {
  if (shm::monotonic_now_ns() - latest_.monotonic_ns < 1'000'000'000ull) return;
  latest_ = shm::read_clock_pair();
  const std::uint64_t dt = latest_.tsc - first_.tsc;
  if (dt != 0)
    ns_per_tick_ = static_cast<double>(latest_.monotonic_ns - first_.monotonic_ns) / static_cast<double>(dt);
}

std::uint64_t TscClock::to_monotonic_ns(std::uint64_t tsc) const noexcept {
  // Signed: pre-roll from before the daemon started lies before latest_.
  const double delta_ticks = static_cast<double>(static_cast<std::int64_t>(tsc - latest_.tsc));
  const double ns = static_cast<double>(latest_.monotonic_ns) + delta_ticks * ns_per_tick_;
  return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns);
}

}  // namespace preroll::daemon
