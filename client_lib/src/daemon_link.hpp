// The client's connection to prerolld: HELLO with the segment descriptor,
// doorbells at ring swaps, GOODBYE at shutdown, and reconnection.
//
// Never blocks: the socket is non-blocking, and the connection state is
// guarded by a try-lock; a thread that finds it taken skips its doorbell (the
// daemon also polls every lane periodically, so a skipped doorbell delays a
// window by at most one poll interval, it never loses it). A lost daemon is
// noticed by a failing send; reconnection is tried from the swap path at most
// once a second, and re-sends the segment. A daemon that refuses the
// connection (a limit, a corrupt segment) says why in a REFUSED message
// before it closes; the failing send that notices the close reads it, logs it
// once per reason on stderr, and the refusal is then handled like a daemon
// that went away.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "preroll/shm/wire.hpp"

namespace preroll::client {

class DaemonLink {
 public:
  DaemonLink(std::string socket_path, int segment_fd, std::uint64_t segment_size) noexcept;
  ~DaemonLink();
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  // Connects and sends HELLO; false (and no error) when no daemon listens.
  bool connect_now() noexcept;
  void doorbell(std::uint32_t lane) noexcept;
  // A doorbell only if none was sent for a second (and a reconnect if due).
  void doorbell_if_quiet(std::uint32_t lane) noexcept;
  // From the swap path when nothing else was sent: reconnect if due.
  void maybe_reconnect() noexcept;
  void goodbye() noexcept;
  // For fork(): forget the descriptor without any message to the daemon.
  void abandon() noexcept;

  [[nodiscard]] bool connected() const noexcept { return fd_.load(std::memory_order_relaxed) >= 0; }
  [[nodiscard]] std::uint32_t connects() const noexcept { return connects_.load(std::memory_order_relaxed); }

 private:
  bool try_lock() noexcept { return !busy_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { busy_.store(false, std::memory_order_release); }
  bool connect_locked() noexcept;
  void drop_connection_locked() noexcept;
  bool reconnect_due_locked() noexcept;
  // After a send on `fd` failed for good: reads the daemon's REFUSED, if it
  // sent one, and says it on stderr (once per reason).
  std::optional<shm::wire::Refused> take_refusal_locked(int fd) noexcept;
  // The same after a doorbell or goodbye: a refused HELLO is taken back from connects_.
  void uncount_refusal_locked(int fd) noexcept;

  std::string path_;
  int segment_fd_;
  std::uint64_t segment_size_;
  std::atomic<bool> busy_{false};
  std::atomic<int> fd_{-1};          // read relaxed as a hint by connected()
  std::uint64_t last_attempt_ns_ = 0;  // guarded by busy_
  std::atomic<std::uint64_t> last_doorbell_ns_{0};  // relaxed: a rate-limit hint
  std::atomic<std::uint32_t> connects_{0};          // HELLOs sent and not refused; relaxed: a statistic
  std::uint32_t refusals_logged_ = 0;  // bit per RefuseReason already on stderr; guarded by busy_
  bool closed_ = false;                // goodbye sent; guarded by busy_
};

}  // namespace preroll::client
