// One log line per interval for an event anyone can repeat at will (a
// refused connection, a failing accept): the first occurrence is logged, the
// ones after it within the interval are only counted, and the next line says
// how many it stands for. The counters in DaemonStats stay exact; only the
// log is thinned. One thread (the io thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace preroll::daemon {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  LogThrottle() = default;
  explicit LogThrottle(Clock::duration interval) : interval_(interval) {}

  // True when this occurrence may be logged; `held_back` is then the number
  // of occurrences not logged since the last line.
  bool admit(std::uint64_t& held_back, Clock::time_point now = Clock::now()) {
    if (logged_ && now - last_ < interval_) {
      ++held_;
      return false;
    }
    logged_ = true;
    last_ = now;
    held_back = held_;
    held_ = 0;
    return true;
  }

  // "" or "; 12 more since the last report", for the end of the line.
  static std::string note(std::uint64_t held_back) {
    return held_back == 0 ? std::string() : "; " + std::to_string(held_back) + " more since the last report";
  }

 private:
  Clock::duration interval_ = std::chrono::seconds(1);
  Clock::time_point last_{};
  bool logged_ = false;
  std::uint64_t held_ = 0;
};

}  // namespace preroll::daemon
