// The control socket (prerollctl): an AF_UNIX stream socket next to the
// registration socket (shm::control_socket_path), served on the daemon's
// io_context. Newline-delimited JSON requests and replies (control_protocol);
// replies are written asynchronously; a connection idle for 5 s or sending
// an oversized request is closed. Nothing here waits on disk.
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

namespace preroll::daemon::control {

inline constexpr std::chrono::seconds idle_timeout{5};

// Creates the listening socket (mode 0666): a stale file is replaced, a path
// a live daemon answers on is refused. Throws std::runtime_error naming the path.
int open_control_socket(const std::string& path);

class ControlConnection;

class ControlServer {
 public:
  // The state must outlive the server. Throws like open_control_socket.
  ControlServer(boost::asio::io_context& io, std::string path, ControlState state);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void start();
  // Closes the listening socket and every connection, unlinks the file. Idempotent.
  void stop();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const ControlState& state() const noexcept { return state_; }
  void forget(const std::shared_ptr<ControlConnection>& c) { connections_.erase(c); }

 private:
  void accept_next();

  boost::asio::io_context& io_;
  std::string path_;
  ControlState state_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::set<std::shared_ptr<ControlConnection>> connections_;  // io thread only
  bool stopped_ = false;
};

}  // namespace preroll::daemon::control
