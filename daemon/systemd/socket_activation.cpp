#include "systemd/socket_activation.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace preroll::daemon::systemd {

namespace {

struct Adopted {
  std::string path;
  int type = 0;
  int fd = -1;  // -1 once taken
};

std::mutex g_mutex;
std::vector<Adopted> g_adopted;  // guarded by g_mutex

const char* type_name(int type) {
  switch (type) {
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    default: return "socket";
  }
}

// "SOCK_STREAM socket at /run/x" or what else it is, for messages.
std::string describe(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "not a socket";
  int type = 0;
  socklen_t tlen = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen);
  if (ss.ss_family != AF_UNIX) return std::string("a non-AF_UNIX ") + type_name(type);
  const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
  const std::size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
  std::string path(un->sun_path, ::strnlen(un->sun_path, path_len));
  if (path.empty()) path = path_len > 0 ? "an abstract address" : "no address";
  return std::string(type_name(type)) + " at " + path;
}

// A listening AF_UNIX socket of `type` bound to `path` exactly.
bool fits(int fd, const WantedSocket& w) {
  return ::sd_is_socket_unix(fd, w.type, 1, w.path.c_str(), 0) > 0;
}

std::string label(const PassedSocket& p) {
  return "fd " + std::to_string(p.fd) + " (FileDescriptorName=" + p.name + ", " + describe(p.fd) + ")";
}

}  // namespace

std::vector<std::size_t> assign_passed_sockets(const std::vector<PassedSocket>& passed,
                                               const std::vector<WantedSocket>& wanted) {
  std::vector<std::size_t> out;
  std::vector<bool> taken(wanted.size(), false);
  for (const auto& p : passed) {
    std::size_t which = wanted.size();
    for (std::size_t i = 0; i < wanted.size(); ++i)
      if (p.name == wanted[i].name) which = i;
    if (which < wanted.size()) {
      const WantedSocket& w = wanted[which];
      if (!fits(p.fd, w))
        throw std::runtime_error("socket activation: systemd passed " + label(p) + " as the " + w.name +
                                 " socket, but the daemon is configured for a listening " + type_name(w.type) +
                                 " at " + w.path + "; make the .socket unit and --socket (or socket = in the "
                                 "config file) name the same path");
    } else {
      for (std::size_t i = 0; i < wanted.size(); ++i)
        if (fits(p.fd, wanted[i])) which = i;
      if (which == wanted.size()) {
        std::string expected;
        for (const auto& w : wanted)
          expected += (expected.empty() ? "" : ", ") + w.name + " " + type_name(w.type) + " " + w.path;
        throw std::runtime_error("socket activation: systemd passed " + label(p) +
                                 ", which is none of the daemon's sockets (" + expected +
                                 "); make the .socket unit and --socket name the same path");
      }
    }
    if (taken[which])
      throw std::runtime_error("socket activation: systemd passed two descriptors for the " + wanted[which].name +
                               " socket (" + wanted[which].path + "), the second is " + label(p));
    taken[which] = true;
    out.push_back(which);
  }
  return out;
}

void adopt_listen_fds(const std::vector<WantedSocket>& wanted) {
  char** names = nullptr;
  // unset_environment=1: LISTEN_* are not for anything the daemon might start.
  const int n = ::sd_listen_fds_with_names(1, &names);
  if (n < 0) throw std::runtime_error(std::string("socket activation: LISTEN_FDS: ") + std::strerror(-n));
  std::vector<PassedSocket> passed;
  for (int i = 0; i < n; ++i) passed.push_back({SD_LISTEN_FDS_START + i, names && names[i] ? names[i] : "unknown"});
  if (names != nullptr) {
    for (int i = 0; i < n; ++i) std::free(names[i]);
    std::free(names);
  }
  if (passed.empty()) return;
  const auto which = assign_passed_sockets(passed, wanted);
  std::lock_guard lock(g_mutex);
  for (std::size_t i = 0; i < passed.size(); ++i) {
    const WantedSocket& w = wanted[which[i]];
    g_adopted.push_back({w.path, w.type, passed[i].fd});
    spdlog::info("socket activation: {} socket {} from systemd (fd {})", w.name, w.path, passed[i].fd);
  }
}

int take_passed_socket(const std::string& path, int type) {
  std::lock_guard lock(g_mutex);
  for (auto& a : g_adopted) {
    if (a.path != path || a.type != type || a.fd < 0) continue;
    const int fd = a.fd;
    a.fd = -1;
    return fd;
  }
  return -1;
}

bool is_passed_socket_path(const std::string& path) {
  std::lock_guard lock(g_mutex);
  for (const auto& a : g_adopted)
    if (a.path == path) return true;
  return false;
}


}  // namespace preroll::daemon::systemd
