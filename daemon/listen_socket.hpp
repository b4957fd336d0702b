// Creating the registration socket: a SOCK_SEQPACKET AF_UNIX socket at a
// path, refusing to steal the path from a daemon that is still listening.
#pragma once

#include <string>

namespace preroll::daemon {

// Returns a listening descriptor; throws std::runtime_error naming the path
// and the reason (another daemon listening, no permission, path too long).
int open_listen_socket(const std::string& path);

}  // namespace preroll::daemon
