// The control socket (prerollctl): an AF_UNIX stream socket next to the
// registration socket (shm::control_socket_path), served on the daemon's
// io_context. Newline-delimited JSON requests and replies (control_protocol);
// replies are written asynchronously; a connection idle for 5 s or sending
// an oversized request is closed; beyond --max-control-connections a new
// connection gets an error line and is closed. Nothing here waits on disk.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "control/control_commands.hpp"
#include "daemon_stats.hpp"
#include "log_throttle.hpp"

namespace preroll::daemon::control {

inline constexpr std::chrono::seconds idle_timeout{5};

// Creates the listening socket (mode 0666): a stale file is replaced, a path
// a live daemon answers on is refused. Throws std::runtime_error naming the path.
int open_control_socket(const std::string& path);

class ControlConnection;

class ControlServer {
 public:
  // The state and the counters must outlive the server. Throws like open_control_socket.
  ControlServer(boost::asio::io_context& io, std::string path, ControlState state, DaemonStats& counters,
                std::uint32_t max_connections);
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
  // Over the limit: one error line (non-blocking, it cannot stall us), closed.
  void refuse(boost::asio::local::stream_protocol::socket socket);

  boost::asio::io_context& io_;
  std::string path_;
  ControlState state_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // the pause after a failed accept
  std::set<std::shared_ptr<ControlConnection>> connections_;  // io thread only
  DaemonStats& counters_;
  std::uint32_t max_connections_;
  LogThrottle refused_log_;
  LogThrottle accept_error_log_;
  bool stopped_ = false;
};

}  // namespace preroll::daemon::control
