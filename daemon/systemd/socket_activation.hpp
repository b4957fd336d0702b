// Socket activation: the listening sockets a systemd .socket unit passes to
// prerolld (LISTEN_FDS, LISTEN_FDNAMES; sd_listen_fds(3)) are used instead of
// binding new ones. The shipped units are systemd/prerolld.socket
// (registration, FileDescriptorName=registration) and
// systemd/prerolld-control.socket (control, FileDescriptorName=control).
//
// The rules (docs/operations.md, "Socket activation"):
// - A passed descriptor is assigned to a socket of the daemon by its name
//   ("registration", "control"); an unnamed one (or one with another name)
//   by its type and path. It must be a listening AF_UNIX socket of the
//   socket's type bound to exactly the configured path (--socket, and the
//   control path derived from it); anything else stops startup with a
//   message naming both paths. A configuration that disagrees with the
//   .socket unit would otherwise serve a path no client uses.
// - A configured socket with no passed descriptor is bound by the daemon as
//   without systemd (only the registration socket activated, say).
// - A socket file systemd passed belongs to systemd: the daemon never
//   unlinks it, so a restarted daemon gets the same socket at the same path.
//
// Startup runs on one thread; the table below is guarded all the same.
#pragma once

#include <string>
#include <vector>

namespace preroll::daemon::systemd {

// A listening socket the daemon needs.
struct WantedSocket {
  std::string name;  // FileDescriptorName= that selects it: "registration", "control"
  std::string path;  // configured path
  int type = 0;      // SOCK_SEQPACKET, SOCK_STREAM
};

// A descriptor systemd passed, with the name it came with ("unknown" when the
// unit set none).
struct PassedSocket {
  int fd = -1;
  std::string name;
};

// Which wanted socket each passed descriptor is (same order as `passed`:
// an index into `wanted`). Pure but for reading the descriptors' type and
// address. Throws std::runtime_error for a descriptor that fits no wanted
// socket, a named one whose type or path differs from the configuration,
// and two descriptors for one socket.
std::vector<std::size_t> assign_passed_sockets(const std::vector<PassedSocket>& passed,
                                               const std::vector<WantedSocket>& wanted);

// Reads LISTEN_FDS / LISTEN_PID / LISTEN_FDNAMES (then unsets them; the
// descriptors are close-on-exec) and records which of `wanted` systemd
// passed. No LISTEN_FDS (or one meant for another pid): nothing recorded.
// Throws std::runtime_error as assign_passed_sockets. Call once, before the
// sockets are opened.
void adopt_listen_fds(const std::vector<WantedSocket>& wanted);

// The descriptor systemd passed for `path` (checked to be of `type`), handed
// over once: -1 when there is none, and for the second caller.
int take_passed_socket(const std::string& path, int type);

// True when `path` is a socket file systemd created and passed: not ours to unlink.
bool is_passed_socket_path(const std::string& path);

}  // namespace preroll::daemon::systemd
