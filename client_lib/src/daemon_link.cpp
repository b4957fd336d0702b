#include "daemon_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/wire.hpp"

namespace preroll::client {

namespace {
constexpr std::uint64_t kReconnectIntervalNs = 1'000'000'000;

std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

bool send_message(int fd, const std::byte* data, std::size_t size, int pass_fd) noexcept {
  iovec iov{const_cast<std::byte*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(size)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}
}  // namespace

DaemonLink::DaemonLink(std::string socket_path, int segment_fd, std::uint64_t segment_size) noexcept
    : path_(std::move(socket_path)), segment_fd_(segment_fd), segment_size_(segment_size) {}

DaemonLink::~DaemonLink() {
  const int fd = fd_.exchange(-1);
  if (fd >= 0) ::close(fd);
}

bool DaemonLink::connect_now() noexcept {
  if (!try_lock()) return false;
  const bool ok = connect_locked();
  unlock();
  return ok;
}

bool DaemonLink::connect_locked() noexcept {
  last_attempt_ns_ = monotonic_ns();
  if (closed_) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // A local connect completes at once or fails (EAGAIN when the daemon's
  // backlog is full): either way it does not wait.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  std::array<std::byte, shm::wire::kHelloSize> hello;
  shm::wire::encode_hello(hello, {shm::kAbiVersion, static_cast<std::uint32_t>(::getpid()), segment_size_});
  if (!send_message(fd, hello.data(), hello.size(), segment_fd_)) {
    // A daemon at a limit may have refused and closed before our HELLO.
    if (errno != EAGAIN && errno != EWOULDBLOCK) take_refusal_locked(fd);
    ::close(fd);
    return false;
  }
  fd_.store(fd, std::memory_order_relaxed);
  connects_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void DaemonLink::drop_connection_locked() noexcept {
  const int fd = fd_.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) ::close(fd);
}

std::optional<shm::wire::Refused> DaemonLink::take_refusal_locked(int fd) noexcept {
  // The daemon queues REFUSED before it closes, so it is here by the time a
  // send fails. A first recv may report ECONNRESET instead (the daemon closed
  // with our HELLO unread); the message follows it.
  std::optional<shm::wire::Refused> refused;
  for (int attempt = 0; attempt < 3 && !refused; ++attempt) {
    std::array<std::byte, 2 * shm::wire::kRefusedSize> buf;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == ECONNRESET)) continue;
    if (n <= 0) return std::nullopt;
    refused = shm::wire::parse_refused({buf.data(), static_cast<std::size_t>(n)});
  }
  if (!refused) return std::nullopt;
  const std::uint32_t bit = refused->reason < 32 ? 1u << refused->reason : 1u;
  if ((refusals_logged_ & bit) == 0) {
    refusals_logged_ |= bit;
    std::array<char, 160> why;
    shm::wire::describe(*refused, why);
    std::fprintf(stderr, "preroll: prerolld refused this process: %s; capture goes on, the library retries later\n",
                 why.data());
  }
  return refused;
}

void DaemonLink::uncount_refusal_locked(int fd) noexcept {
  const auto refused = take_refusal_locked(fd);
  // A faulty segment was taken and served until found corrupt; every other
  // refusal turned the HELLO away.
  if (refused && refused->reason != static_cast<std::uint32_t>(shm::wire::RefuseReason::faulty))
    connects_.fetch_sub(1, std::memory_order_relaxed);
}

bool DaemonLink::reconnect_due_locked() noexcept {
  return !closed_ && monotonic_ns() - last_attempt_ns_ >= kReconnectIntervalNs;
}

void DaemonLink::doorbell(std::uint32_t lane) noexcept {
  if (!try_lock()) return;
  int fd = fd_.load(std::memory_order_relaxed);
  if (fd < 0 && reconnect_due_locked() && connect_locked()) fd = fd_.load(std::memory_order_relaxed);
  if (fd >= 0) {
    last_doorbell_ns_.store(monotonic_ns(), std::memory_order_relaxed);
    std::array<std::byte, shm::wire::kDoorbellSize> msg;
    shm::wire::encode_doorbell(msg, {lane});
    if (!send_message(fd, msg.data(), msg.size(), -1) && errno != EAGAIN && errno != EWOULDBLOCK) {
      // EAGAIN: the daemon is behind on reading; it polls anyway. Anything
      // else (EPIPE, ECONNRESET): the daemon is gone, or closed on us.
      uncount_refusal_locked(fd);
      drop_connection_locked();
    }
  }
  unlock();
}

void DaemonLink::doorbell_if_quiet(std::uint32_t lane) noexcept {
  if (fd_.load(std::memory_order_relaxed) < 0) {
    maybe_reconnect();
    return;
  }
  if (monotonic_ns() - last_doorbell_ns_.load(std::memory_order_relaxed) >= kReconnectIntervalNs) doorbell(lane);
}

void DaemonLink::maybe_reconnect() noexcept {
  if (fd_.load(std::memory_order_relaxed) >= 0) return;
  if (!try_lock()) return;
  if (fd_.load(std::memory_order_relaxed) < 0 && reconnect_due_locked()) connect_locked();
  unlock();
}

void DaemonLink::goodbye() noexcept {
  // Shutdown may wait for a concurrent doorbell to finish: it is not on the
  // hot path.
  while (!try_lock()) {
  }
  const int fd = fd_.load(std::memory_order_relaxed);
  if (fd >= 0) {
    std::array<std::byte, shm::wire::kGoodbyeSize> msg;
    shm::wire::encode_goodbye(msg);
    // The one message worth a short wait: without it the daemon would
    // report this clean exit as a crash. Bounded to ~0.5 s.
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (send_message(fd, msg.data(), msg.size(), -1)) break;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        uncount_refusal_locked(fd);
        break;
      }
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
  }
  closed_ = true;
  drop_connection_locked();
  unlock();
}

void DaemonLink::abandon() noexcept {
  const int fd = fd_.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) ::close(fd);
  closed_ = true;
}

}  // namespace preroll::client
