#include "control/control_server.hpp"

#include "listen_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace preroll::daemon::control {

int open_control_socket(const std::string& path) { return open_listen_socket(path, SOCK_STREAM, "control socket"); }

class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  ControlConnection(Socket socket, ControlServer& server)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer_.pid = static_cast<std::uint32_t>(cred.pid);
      peer_.uid = static_cast<std::uint32_t>(cred.uid);
      have_peer_ = true;
    }
  }

  void start() {
    if (!have_peer_) {
      reply_and_close(error_reply("cannot read peer credentials"));
      return;
    }
    read_next();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(Socket::shutdown_both, ec);
    socket_.close(ec);
    server_.forget(shared_from_this());
  }

 private:
  void arm_timer() {
    timer_.expires_after(idle_timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();  // idle: nothing (complete) sent for too long
    });
  }

  void read_next() {
    if (closed_) return;
    arm_timer();
    // One byte beyond the limit: a request that long without a newline is refused.
    boost::asio::async_read_until(
        socket_, boost::asio::dynamic_buffer(buffer_, max_request_bytes + 1), '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closed_) return;
    timer_.cancel();
    if (ec == boost::asio::error::not_found) {  // buffer full, no newline
      reply_and_close(error_reply("request longer than " + std::to_string(max_request_bytes) + " bytes"));
      return;
    }
    if (ec) {  // EOF, reset, cancelled
      close();
      return;
    }
    std::string line = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    const ParseResult parsed = parse_request(line);
    if (!parsed.request) {
      spdlog::debug("control: bad request from pid {}: {}", peer_.pid, parsed.error);
      // A client that cannot frame requests gets one error and the door.
      reply_and_close(error_reply(parsed.error));
      return;
    }
    spdlog::debug("control: {} from pid {} uid {}", command_name(parsed.request->cmd), peer_.pid, peer_.uid);
    // A deferred reply (flush) arrives on the io thread once the worker is
    // done; no idle timer runs meanwhile, the peer is waiting on us.
    std::weak_ptr<ControlConnection> weak = shared_from_this();
    std::string reply = handle_request(*parsed.request, peer_, server_.state(), [weak](std::string line) {
      if (auto self = weak.lock(); self && !self->closed_) self->write(std::move(line), false);
    });
    if (!reply.empty()) write(std::move(reply), false);
  }

  void reply_and_close(std::string reply) { write(std::move(reply), true); }

  void write(std::string reply, bool close_after) {
    out_ = std::move(reply);
    arm_timer();  // a peer that never reads its reply is dropped too
    boost::asio::async_write(socket_, boost::asio::buffer(out_),
                             [self = shared_from_this(), close_after](const boost::system::error_code& ec, std::size_t) {
                               if (self->closed_) return;
                               self->timer_.cancel();
                               if (ec || close_after) {
                                 self->close();
                                 return;
                               }
                               self->read_next();
                             });
  }

  Socket socket_;
  boost::asio::steady_timer timer_;
  ControlServer& server_;
  Peer peer_;
  bool have_peer_ = false;
  bool closed_ = false;
  std::string buffer_;
  std::string out_;
};

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, ControlState state, DaemonStats& counters,
                             std::uint32_t max_connections)
    : io_(io),
      path_(std::move(path)),
      state_(std::move(state)),
      acceptor_(io),
      accept_retry_(io),
      counters_(counters),
      max_connections_(max_connections) {
  const int fd = open_control_socket(path_);
  acceptor_.assign(boost::asio::local::stream_protocol(), fd);
}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    remove_listen_socket(path_);  // not when systemd passed it
  }
}

void ControlServer::start() { accept_next(); }

void ControlServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec,
                                boost::asio::local::stream_protocol::socket socket) {
    if (stopped_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      if (connections_.size() >= max_connections_) {
        refuse(std::move(socket));
      } else {
        auto c = std::make_shared<ControlConnection>(std::move(socket), *this);
        connections_.insert(c);
        counters_.control_connections.store(connections_.size(), std::memory_order_relaxed);
        c->start();
      }
      accept_next();
      return;
    }
    // Out of descriptors (EMFILE, ENFILE) or memory: the connection stays
    // queued and the socket readable, so accepting again at once would spin
    // at full CPU and log a line per turn. Pause instead.
    DaemonStats::add(counters_.accept_errors);
    std::uint64_t held = 0;
    if (accept_error_log_.admit(held))
      spdlog::warn("control socket: accept failed: {}; retrying every 100 ms{}", ec.message(), LogThrottle::note(held));
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](const boost::system::error_code& e) {
      if (!e && !stopped_) accept_next();
    });
  });
}

void ControlServer::refuse(boost::asio::local::stream_protocol::socket socket) {
  DaemonStats::add(counters_.control_refused);
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) cred = ucred{};
  std::uint64_t held = 0;
  if (refused_log_.admit(held))
    spdlog::warn("control socket: pid {} uid {} refused: {} connections open (--max-control-connections {}){}",
                 cred.pid, cred.uid, connections_.size(), max_connections_, LogThrottle::note(held));
  const std::string reply = error_reply("too many control connections (--max-control-connections " +
                                        std::to_string(max_connections_) + "); try again later");
  if (::send(socket.native_handle(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
  }
  boost::system::error_code ignored;
  socket.close(ignored);
}

void ControlServer::forget(const std::shared_ptr<ControlConnection>& c) {
  connections_.erase(c);
  counters_.control_connections.store(connections_.size(), std::memory_order_relaxed);
}

void ControlServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  accept_retry_.cancel();
  boost::system::error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    remove_listen_socket(path_);  // not when systemd passed it
  }
  const auto connections = connections_;  // close() erases from the set
  for (const auto& c : connections) c->close();
}

}  // namespace preroll::daemon::control
