#include "control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace preroll::ctl {

// Sends one request line and returns the reply line. Throws Failure.
std::string ask(const std::string& path, const std::string& request, int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Failure{"control socket " + path + ": path too long"};
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Failure{std::string("socket(): ") + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    throw Failure{"cannot reach prerolld at control socket " + path + ": " + std::strerror(err) +
                  (err == ENOENT || err == ECONNREFUSED ? " (is the daemon running?)" : "")};
  }
  const std::string line = request + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      // A daemon at --max-control-connections answers with an error line and
      // closes without reading the request: that line is the reply.
      if (errno == EPIPE || errno == ECONNRESET) break;
      throw Failure{"control socket " + path + ": send: " + std::strerror(errno)};
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Failure{"control socket " + path + ": no reply within " + std::to_string(timeout_ms / 1000.0) + " s"};
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Failure{std::string("poll: ") + std::strerror(errno)};
    if (r == 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Failure{"control socket " + path + ": recv: " + std::strerror(errno)};
    }
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = reply.find('\n'); nl != std::string::npos) {
      reply.resize(nl);
      return reply;
    }
  }
  if (reply.empty()) throw Failure{"control socket " + path + ": the daemon closed the connection without a reply"};
  return reply;
}


}  // namespace preroll::ctl
