#include "preroll/atf/types.hpp"

#include <array>

namespace preroll::atf {

std::string_view to_string(KeepReason reason) noexcept {
  switch (reason) {
    case KeepReason::marked: return "marked";
    case KeepReason::pre_roll: return "pre-roll";
    case KeepReason::post_roll: return "post-roll";
    case KeepReason::flush_timeout: return "flush-timeout";
    case KeepReason::client_exit: return "client-exit";
    case KeepReason::client_crash: return "client-crash";
    case KeepReason::manual_snapshot: return "manual-snapshot";
    case KeepReason::capture_all: return "capture-all";
    case KeepReason::daemon_shutdown: return "daemon-shutdown";
    case KeepReason::process_context: return "process-context";
  }
  // Files may carry reasons added after this build.
  return "unknown";
}

std::string level_name(std::uint8_t level) {
  static constexpr std::array<std::string_view, 6> names = {"trace", "debug", "info", "warn", "error", "fatal"};
  if (level < names.size()) {
    return std::string(names[level]);
  }
  // Appended, not "L" + to_string(): GCC 12 at -O3 warns (-Wrestrict) on
  // the operator+ form, a known false positive.
  std::string s = "L";
  s += std::to_string(level);
  return s;
}

std::int64_t wall_clock_ns(const FileHeader& header, std::uint64_t monotonic_ns) noexcept {
  // Unsigned arithmetic wraps instead of overflowing; the conversion back to
  // signed is modular (C++20).
  const std::uint64_t wall = monotonic_ns - static_cast<std::uint64_t>(header.clock_monotonic_ns) +
                             static_cast<std::uint64_t>(header.clock_realtime_ns);
  return static_cast<std::int64_t>(wall);
}

}  // namespace preroll::atf
