#include "control/control_server.hpp"

#include "listen_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
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
  ControlConnection(Socket socket, Peer peer, ControlServer& server)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server), peer_(peer) {}

  void start() { read_next(); }

  [[nodiscard]] std::uint32_t uid() const noexcept { return peer_.uid; }

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
  bool closed_ = false;
  std::string buffer_;
  std::string out_;
};

std::uint32_t reserved_for_privileged(std::uint32_t max_connections) noexcept {
  return max_connections < 2 ? 0 : std::max<std::uint32_t>(1, max_connections / 8);
}

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, ControlState state, DaemonStats& counters,
                             ControlLimits limits)
    : io_(io),
      path_(std::move(path)),
      state_(std::move(state)),
      acceptor_(io),
      accept_retry_(io),
      counters_(counters),
      limits_(limits) {
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
      admit(std::move(socket));
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

void ControlServer::admit(boost::asio::local::stream_protocol::socket socket) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    refuse(std::move(socket), Peer{}, "cannot read peer credentials");
    return;
  }
  const Peer peer{static_cast<std::uint32_t>(cred.pid), static_cast<std::uint32_t>(cred.uid)};
  // Root and the daemon's own uid have no per-user limit and the last slots
  // to themselves: an operator's prerollctl gets in while other users hold
  // every connection they may.
  const bool priv = privileged(peer, state_.daemon_uid);
  const std::uint32_t reserve = reserved_for_privileged(limits_.max_connections);
  const auto verdict = limits_held_.admit(peer.uid, priv ? limits_.max_connections : limits_.max_connections - reserve,
                                          priv ? limits_.max_connections : limits_.max_per_user);
  if (verdict == ConnectionLimits::Verdict::per_user) {
    refuse(std::move(socket), peer,
           "too many control connections of uid " + std::to_string(peer.uid) +
               " (--max-control-connections-per-user " + std::to_string(limits_.max_per_user) + ")");
    return;
  }
  if (verdict == ConnectionLimits::Verdict::max_clients) {
    const bool all_taken = limits_held_.total() >= limits_.max_connections;
    refuse(std::move(socket), peer,
           "too many control connections (--max-control-connections " + std::to_string(limits_.max_connections) +
               (all_taken ? std::string()
                          : ", of which the last " + std::to_string(reserve) + " are kept for root and the daemon's user") +
               ")");
    return;
  }
  auto c = std::make_shared<ControlConnection>(std::move(socket), peer, *this);
  connections_.insert(c);
  counters_.control_connections.store(connections_.size(), std::memory_order_relaxed);
  c->start();
}

void ControlServer::refuse(boost::asio::local::stream_protocol::socket socket, const Peer& peer,
                           const std::string& why) {
  DaemonStats::add(counters_.control_refused);
  std::uint64_t held = 0;
  if (refused_log_.admit(held))
    spdlog::warn("control socket: pid {} uid {} refused: {}; {} connections open{}", peer.pid, peer.uid, why,
                 connections_.size(), LogThrottle::note(held));
  const std::string reply = error_reply(why + "; try again later");
  if (::send(socket.native_handle(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
  }
  boost::system::error_code ignored;
  socket.close(ignored);
}

void ControlServer::forget(const std::shared_ptr<ControlConnection>& c) {
  if (connections_.erase(c) != 0) limits_held_.release(c->uid());
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
