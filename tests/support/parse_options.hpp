// prerolld's command-line parser run on a test's arguments (no config file).
#pragma once

#include <vector>

#include "config.hpp"

namespace preroll::test {

// `prerolld args...`, with no default config file.
inline daemon::ParseOutcome parse_options(std::vector<const char*> args) {
  args.insert(args.begin(), "prerolld");
  return daemon::parse_command_line(static_cast<int>(args.size()), args.data(), "");
}

}  // namespace preroll::test
