// One request to prerolld's control socket and its reply line
// (newline-delimited JSON, docs/protocol.md).
#pragma once

#include <string>

namespace preroll::ctl {

struct Failure {
  std::string message;
};

// Connects to the control socket at `path`, sends `request` (one JSON line)
// and returns the reply line. Throws Failure with a message naming the socket.
std::string ask(const std::string& path, const std::string& request, int timeout_ms = 10000);

}  // namespace preroll::ctl
