// The control socket (prerollctl): an AF_UNIX stream socket next to the
// registration socket (shm::control_socket_path), served on the daemon's
// io_context. Newline-delimited JSON requests and replies (control_protocol);
// replies are written asynchronously; a connection idle for 5 s or sending
// an oversized request is closed; beyond --max-control-connections (or
// --max-control-connections-per-user, for users other than root and the
// daemon's) a new connection gets an error line and is closed. Nothing here
// waits on disk.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "connection_limits.hpp"
#include "control/control_commands.hpp"
#include "daemon_stats.hpp"
#include "log_throttle.hpp"

namespace preroll::daemon::control {

inline constexpr std::chrono::seconds idle_timeout{5};

// Creates the listening socket (mode 0666): a stale file is replaced, a path
// a live daemon answers on is refused. Throws std::runtime_error naming the path.
int open_control_socket(const std::string& path);

class ControlConnection;

struct ControlLimits {
  std::uint32_t max_connections = 64;  // --max-control-connections, everyone together
  std::uint32_t max_per_user = 8;      // --max-control-connections-per-user, root and the daemon's uid exempt
};

// How many of max_connections only root and the daemon's uid may take: an
// eighth, at least one when there are two or more.
[[nodiscard]] std::uint32_t reserved_for_privileged(std::uint32_t max_connections) noexcept;

class ControlServer {
 public:
  // The state and the counters must outlive the server. Throws like open_control_socket.
  ControlServer(boost::asio::io_context& io, std::string path, ControlState state, DaemonStats& counters,
                ControlLimits limits);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void start();
  // Closes the listening socket and every connection, unlinks the file. Idempotent.
  void stop();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const ControlState& state() const noexcept { return state_; }
  void forget(const std::shared_ptr<ControlConnection>& c);

 private:
  void accept_next();
  // Serves the connection, or refuses it at a limit.
  void admit(boost::asio::local::stream_protocol::socket socket);
  // One error line, `why`, (non-blocking, it cannot stall us), then closed.
  void refuse(boost::asio::local::stream_protocol::socket socket, const Peer& peer, const std::string& why);

  boost::asio::io_context& io_;
  std::string path_;
  ControlState state_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // the pause after a failed accept
  std::set<std::shared_ptr<ControlConnection>> connections_;  // io thread only
  DaemonStats& counters_;
  ControlLimits limits_;
  ConnectionLimits limits_held_;  // the connections open, in all and per uid; io thread only
  LogThrottle refused_log_;
  LogThrottle accept_error_log_;
  bool stopped_ = false;
};

}  // namespace preroll::daemon::control
