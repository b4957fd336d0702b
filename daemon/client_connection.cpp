#include "client_connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <spdlog/spdlog.h>
#include <vector>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "preroll/shm/validate.hpp"

namespace preroll::daemon {

namespace {
constexpr int kMaxFdsPerMessage = 4;  // more is a protocol error; all are closed
}

ClientConnection::ClientConnection(Socket socket, ConnectionContext& ctx)
    : socket_(std::move(socket)), ctx_(ctx), hello_deadline_(socket_.get_executor()) {}

void ClientConnection::start() {
  // Identity comes from the kernel, never from the client's bytes.
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer_pid_ = static_cast<std::uint32_t>(cred.pid);
    peer_uid_ = static_cast<std::uint32_t>(cred.uid);
  }
  boost::system::error_code ec;
  socket_.native_non_blocking(true, ec);
  if (const auto refused = admission()) {
    // Before reading anything: a refused connection costs no descriptor it
    // might have carried and no mapping.
    send_refused(*refused);
    end(atf::KeepReason::client_crash, "refused");
    return;
  }
  admitted_ = true;
  ctx_.stats.registration_connections.store(ctx_.limits.total(), std::memory_order_relaxed);
  arm_hello_deadline();
  wait_readable();
}

std::optional<shm::wire::Refused> ClientConnection::admission() {
  using shm::wire::RefuseReason;
  const auto now = FaultQuarantine::Clock::now();
  std::uint64_t held = 0;
  const auto left = ctx_.quarantine.remaining(peer_pid_, now, process_start_ticks);
  if (left > FaultQuarantine::Clock::duration::zero()) {
    DaemonStats::add(ctx_.stats.refused_quarantined);
    const auto seconds = static_cast<std::uint32_t>(std::chrono::ceil<std::chrono::seconds>(left).count());
    if (ctx_.quarantine_log.admit(held))
      spdlog::warn("pid {} uid {}: connection refused: its segment was found corrupt; refused for another {} s{}",
                   peer_pid_, peer_uid_, seconds, LogThrottle::note(held));
    return shm::wire::Refused{static_cast<std::uint32_t>(RefuseReason::quarantined), seconds};
  }
  const DaemonConfig& cfg = ctx_.config;
  switch (ctx_.limits.admit(peer_uid_, cfg.max_clients, cfg.max_clients_per_user)) {
    case ConnectionLimits::Verdict::admitted:
      return std::nullopt;
    case ConnectionLimits::Verdict::max_clients:
      DaemonStats::add(ctx_.stats.refused_max_clients);
      if (ctx_.refused_log.admit(held))
        spdlog::warn("pid {} uid {}: connection refused: {} client connections open (--max-clients {}){}", peer_pid_,
                     peer_uid_, ctx_.limits.total(), cfg.max_clients, LogThrottle::note(held));
      return shm::wire::Refused{static_cast<std::uint32_t>(RefuseReason::max_clients), cfg.max_clients};
    case ConnectionLimits::Verdict::per_user:
      DaemonStats::add(ctx_.stats.refused_per_user);
      if (ctx_.refused_log.admit(held))
        spdlog::warn("pid {} uid {}: connection refused: uid {} has {} client connections open "
                     "(--max-clients-per-user {}){}",
                     peer_pid_, peer_uid_, peer_uid_, ctx_.limits.of(peer_uid_), cfg.max_clients_per_user,
                     LogThrottle::note(held));
      return shm::wire::Refused{static_cast<std::uint32_t>(RefuseReason::max_clients_per_user),
                                cfg.max_clients_per_user};
  }
  return std::nullopt;
}

void ClientConnection::arm_hello_deadline() {
  // A connection that never sends HELLO holds a descriptor and a place in
  // the limits: it gets --hello-timeout seconds, then the door.
  hello_deadline_.expires_after(std::chrono::seconds(ctx_.config.hello_timeout_s));
  hello_deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->ended_ || self->session_) return;
    ConnectionContext& ctx = self->ctx_;
    DaemonStats::add(ctx.stats.hello_timeouts);
    std::uint64_t held = 0;
    if (ctx.hello_timeout_log.admit(held))
      spdlog::warn("pid {} uid {}: no valid HELLO within {} s (--hello-timeout); connection closed{}", self->peer_pid_,
                   self->peer_uid_, ctx.config.hello_timeout_s, LogThrottle::note(held));
    self->send_refused({static_cast<std::uint32_t>(shm::wire::RefuseReason::hello_timeout), ctx.config.hello_timeout_s});
    self->end(atf::KeepReason::client_crash, "no HELLO in time");
  });
}

void ClientConnection::send_refused(const shm::wire::Refused& r) {
  std::array<std::byte, shm::wire::kRefusedSize> msg;
  shm::wire::encode_refused(msg, r);
  // Best effort: a peer that does not read its socket does not learn why.
  if (::send(socket_.native_handle(), msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
  }
}

void ClientConnection::wait_readable() {
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    self->on_readable(ec);
  });
}

void ClientConnection::on_readable(const boost::system::error_code& ec) {
  if (ended_) return;
  if (ec) {
    end(goodbye_ ? atf::KeepReason::client_exit : atf::KeepReason::client_crash, "socket error");
    return;
  }
  if (read_pending()) wait_readable();
}

bool ClientConnection::read_pending() {
  for (;;) {
    std::array<std::byte, shm::wire::kMaxMessageSize> buf;
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      end(goodbye_ ? atf::KeepReason::client_exit : atf::KeepReason::client_crash, std::strerror(errno));
      return false;
    }
    // Collect every descriptor first so none leaks whatever happens next.
    std::vector<shm::UniqueFd> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.emplace_back(fd);
      }
    }
    if (n == 0) {
      end(goodbye_ ? atf::KeepReason::client_exit : atf::KeepReason::client_crash,
          goodbye_ ? "goodbye" : "connection closed without goodbye");
      return false;
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      DaemonStats::add(ctx_.stats.protocol_errors);
      spdlog::warn("pid {}: oversized message or too many descriptors; disconnecting", peer_pid_);
      end(atf::KeepReason::client_crash, "protocol error");
      return false;
    }
    const auto m = shm::wire::parse({buf.data(), static_cast<std::size_t>(n)}, static_cast<int>(fds.size()));
    handle(m, fds.empty() ? -1 : fds.front().get());
    if (ended_) return false;
  }
}

void ClientConnection::handle(const shm::wire::Message& m, int fd) {
  if (const auto* err = std::get_if<shm::wire::ParseError>(&m)) {
    DaemonStats::add(ctx_.stats.protocol_errors);
    spdlog::warn("pid {}: protocol error: {}; disconnecting", peer_pid_, err->what);
    end(atf::KeepReason::client_crash, "protocol error");
    return;
  }
  if (const auto* hello = std::get_if<shm::wire::Hello>(&m)) {
    attach(*hello, fd);
    return;
  }
  if (std::holds_alternative<shm::wire::Doorbell>(m)) {
    if (session_ && session_->faulty.load(std::memory_order_acquire)) return detach_faulty();
    if (session_) ctx_.worker.request_drain(session_);
    return;
  }
  if (std::holds_alternative<shm::wire::Goodbye>(m)) goodbye_ = true;
}

void ClientConnection::attach(const shm::wire::Hello& hello, int fd) {
  auto reject = [&](const std::string& why) {
    DaemonStats::add(ctx_.stats.clients_rejected);
    spdlog::warn("pid {} uid {}: segment refused: {}", peer_pid_, peer_uid_, why);
    send_refused({static_cast<std::uint32_t>(shm::wire::RefuseReason::segment_rejected), 0});
    end(atf::KeepReason::client_crash, "rejected");
  };
  if (session_) return reject("second HELLO on one connection");
  if (hello.abi_version != shm::kAbiVersion)
    return reject("ABI version " + std::to_string(hello.abi_version) + " (this daemon speaks " +
                  std::to_string(shm::kAbiVersion) + ")");
  const shm::SealCheck seal = shm::check_sealed_memfd(fd, ctx_.config.max_segment_size);
  if (!seal.ok) return reject(seal.error);
  if (seal.size != hello.segment_size)
    return reject("HELLO says " + std::to_string(hello.segment_size) + " bytes, the memfd has " +
                  std::to_string(seal.size));
  shm::MappedSegment mapping;
  try {
    mapping = shm::MappedSegment(fd, seal.size);
  } catch (const std::exception& e) {
    return reject(e.what());
  }
  auto snap = shm::snapshot_header(mapping.data(), mapping.size());
  if (const auto* err = std::get_if<std::string>(&snap)) return reject(*err);
  auto& header = std::get<shm::HeaderSnapshot>(snap);

  ClientIdentity who;
  who.pid = peer_pid_;
  who.uid = peer_uid_;
  who.process_name = header.process_name;
  who.command_line = read_command_line(peer_pid_);
  who.start_monotonic_ns = header.created_monotonic_ns;
  who.start_realtime_ns = header.created_realtime_ns;
  const auto& g = header.layout.geometry;
  spdlog::info("pid {} ({}) uid {} attached: {} lanes x {} rings x {} KiB", who.pid, who.process_name, who.uid,
               g.lane_count, g.rings_per_lane, g.ring_size / 1024);
  const auto policy = ctx_.policy.load();
  session_ = std::make_shared<ClientSession>(ctx_.next_session_id++, who, std::move(mapping), std::move(header),
                                             ctx_.store, policy->to_json());
  hello_deadline_.cancel();
  DaemonStats::add(ctx_.stats.clients_attached_total);
  DaemonStats::add(ctx_.stats.clients_current);
  // Rings filled before the daemon existed are pre-roll: drain them now.
  ctx_.worker.request_drain(session_);
}

void ClientConnection::poll() {
  if (!session_ || ended_) return;
  if (session_->faulty.load(std::memory_order_acquire)) {
    // Not here: the server's poll loop iterates the set end() erases from.
    boost::asio::post(socket_.get_executor(), [self = shared_from_this()] { self->detach_faulty(); });
    return;
  }
  ctx_.worker.request_drain(session_);
}

void ClientConnection::detach_faulty() {
  if (ended_) return;
  // The worker has reported why and closed the client's file; the client
  // learns it is detached by REFUSED and the connection closing. The client
  // library reconnects with the same segment, which would be found corrupt
  // again: the process is refused for a while (FaultQuarantine), so a loop
  // of reconnects costs neither mappings nor log lines.
  const auto cooldown = ctx_.quarantine.record(peer_pid_, process_start_ticks(peer_pid_),
                                               FaultQuarantine::Clock::now());
  const auto seconds = static_cast<std::uint32_t>(std::chrono::ceil<std::chrono::seconds>(cooldown).count());
  spdlog::warn("pid {}: faulty client detached; connection closed; its new connections are refused for {} s",
               peer_pid_, seconds);
  send_refused({static_cast<std::uint32_t>(shm::wire::RefuseReason::faulty), seconds});
  end(atf::KeepReason::client_crash, "faulty segment");
}

void ClientConnection::shutdown() { end(atf::KeepReason::daemon_shutdown, "daemon shutdown"); }

void ClientConnection::end(atf::KeepReason reason, const char* why) {
  if (ended_) return;
  ended_ = true;
  hello_deadline_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  if (admitted_) {
    admitted_ = false;
    ctx_.limits.release(peer_uid_);
    ctx_.stats.registration_connections.store(ctx_.limits.total(), std::memory_order_relaxed);
  }
  if (session_) {
    spdlog::debug("pid {}: connection ended: {}", peer_pid_, why);
    ctx_.worker.request_finalize(session_, reason);
    ctx_.stats.clients_current.fetch_sub(1, std::memory_order_relaxed);
    session_.reset();
  }
  // Last: may drop the final reference to this object.
  ctx_.connections.erase(shared_from_this());
}

}  // namespace preroll::daemon
