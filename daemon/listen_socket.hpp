// Creating the registration socket: a SOCK_SEQPACKET AF_UNIX socket at a
// path, refusing to steal the path from a daemon that is still listening.
#pragma once

#include <string>

namespace preroll::daemon {

// Returns a listening AF_UNIX descriptor of `type` (SOCK_SEQPACKET for
// registration, SOCK_STREAM for control), mode 0666: any local user may
// connect, what each may do is decided from SO_PEERCRED. Throws
// std::runtime_error "<label> <path>: <why>" (another daemon listening, no
// permission, path too long).
// A socket systemd passed for `path` (socket activation,
// systemd/socket_activation.hpp) is returned as it is instead.
int open_listen_socket(const std::string& path, int type, const char* label);

// Unlinks the socket file at `path` unless systemd owns it (passed it).
void remove_listen_socket(const std::string& path);

}  // namespace preroll::daemon
