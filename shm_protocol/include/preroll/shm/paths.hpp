// Where the daemon listens by default: the rendezvous both sides compute the
// same way, so a client and a daemon started with no configuration meet.
//
//   root:        /run/preroll/prerolld.sock
//   other users: $XDG_RUNTIME_DIR/preroll/prerolld.sock, else /tmp/preroll-$UID/prerolld.sock
// PREROLL_SOCKET overrides it for clients (the daemon takes --socket).
#pragma once

#include <string>

namespace preroll::shm {

[[nodiscard]] std::string default_socket_path();

// PREROLL_SOCKET if set and non-empty, else default_socket_path().
[[nodiscard]] std::string client_socket_path();

// The daemon's control socket (prerollctl): the registration socket's path
// with its file name replaced by "prerolld.ctl" (same directory). Both the
// daemon and prerollctl derive it here.
[[nodiscard]] std::string control_socket_path(const std::string& registration_path);

}  // namespace preroll::shm
