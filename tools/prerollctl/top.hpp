// prerollctl top: a live view of the daemon, refreshed every interval, that
// fits an 80-column terminal: totals with per-second rates, then the busiest
// clients.
#pragma once

#include <string>

namespace preroll::ctl {

struct TopOptions {
  double interval_s = 1.0;
  int iterations = 0;  // 0: until interrupted
};

// Returns the exit status (2 when the daemon cannot be reached).
int run_top(const std::string& control_path, const std::string& socket_path, const TopOptions& options);

}  // namespace preroll::ctl
