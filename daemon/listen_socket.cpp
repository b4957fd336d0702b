#include "listen_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "systemd/socket_activation.hpp"

namespace preroll::daemon {

namespace {
std::runtime_error failure(const char* label, const std::string& path, const std::string& what, int err) {
  return std::runtime_error(std::string(label) + " " + path + ": " + what +
                            (err != 0 ? std::string(": ") + std::strerror(err) : ""));
}
}  // namespace

int open_listen_socket(const std::string& path, int type, const char* label) {
  // Socket activation: systemd already made, bound and listens on it.
  if (const int fd = systemd::take_passed_socket(path, type); fd >= 0) return fd;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw failure(label, path, "path is empty or longer than " + std::to_string(sizeof addr.sun_path - 1) + " bytes", 0);
  std::memcpy(addr.sun_path, path.data(), path.size());

  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw failure(label, path, "cannot create directory " + parent.string() + ": " + ec.message(), 0);
    ::chmod(parent.c_str(), 0755);
  }

  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw failure(label, path, "socket()", errno);

  // A socket file left by a daemon that died is removed; one that still
  // accepts connections belongs to a running daemon and is left alone.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(fd);
      throw failure(label, path, "exists and is not a socket", 0);
    }
    const int probe = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    const bool alive = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (alive) {
      ::close(fd);
      throw failure(label, path, "another prerolld is already listening there", 0);
    }
    ::unlink(path.c_str());
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    throw failure(label, path, "bind()", err);
  }
  // Any local user may connect: identity and isolation come from SO_PEERCRED
  // (and, for registration, from each client passing only its own memory).
  ::chmod(path.c_str(), 0666);
  if (::listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    throw failure(label, path, "listen()", err);
  }
  return fd;
}

void remove_listen_socket(const std::string& path) {
  if (!systemd::is_passed_socket_path(path)) ::unlink(path.c_str());
}

}  // namespace preroll::daemon
