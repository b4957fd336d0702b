// One client's registration connection, on the io thread: admits it or not
// (connection limits, quarantine), receives HELLO (with the segment
// descriptor) within the HELLO deadline, doorbells and GOODBYE; checks the
// peer's credentials and the descriptor's seals; creates the ClientSession;
// and on disconnect hands the session to the worker for its final drain.
#pragma once

#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <system_error>

#include "client_session.hpp"
#include "config.hpp"
#include "connection_limits.hpp"
#include "daemon_stats.hpp"
#include "fault_quarantine.hpp"
#include "log_throttle.hpp"
#include "marking_policy.hpp"
#include "persistence_worker.hpp"
#include "preroll/shm/wire.hpp"

namespace preroll::daemon {

class ClientConnection;

// What every connection shares; owned by the Server.
struct ConnectionContext {
  const DaemonConfig& config;
  PersistenceWorker& worker;
  FileStore& store;  // handed to sessions; used by the worker thread only
  DaemonStats& stats;
  const PolicyHolder& policy;
  std::set<std::shared_ptr<ClientConnection>> connections;  // io thread only
  std::uint64_t next_session_id = 1;                        // io thread only
  // The rest: io thread only.
  ConnectionLimits limits;
  FaultQuarantine quarantine;
  // Anyone can repeat these at will: one line a second each, with a count.
  LogThrottle refused_log;     // --max-clients, --max-clients-per-user
  LogThrottle quarantine_log;  // a faulty process back too soon
  LogThrottle hello_timeout_log;
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  using Socket = boost::asio::generic::seq_packet_protocol::socket;

  ClientConnection(Socket socket, ConnectionContext& ctx);
  // Reads the peer's credentials, then serves the connection or refuses it
  // (REFUSED, then closed) when a limit is reached.
  void start();
  // Daemon shutdown: stop reading, finalize the session (reason daemon-shutdown).
  void shutdown();
  // Periodic scan (timer): queue a drain if attached.
  void poll();
  // The attached client (null before a valid HELLO); for the control socket.
  [[nodiscard]] std::shared_ptr<const ClientSession> session() const noexcept { return session_; }

 private:
  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  // Reads every pending message; false when the connection ended.
  bool read_pending();
  void handle(const shm::wire::Message& m, int fd);
  void attach(const shm::wire::Hello& h, int fd);
  void end(atf::KeepReason reason, const char* why);
  // The worker found the segment corrupt (ClientSession::faulty): close.
  void detach_faulty();
  // Why this connection is not served (limits, quarantine); nothing when it is.
  [[nodiscard]] std::optional<shm::wire::Refused> admission();
  void arm_hello_deadline();
  // Tells the client why (one non-blocking send: it cannot stall the daemon)
  // before the connection is closed.
  void send_refused(const shm::wire::Refused& r);

  Socket socket_;
  ConnectionContext& ctx_;
  boost::asio::steady_timer hello_deadline_;
  std::uint32_t peer_pid_ = 0;
  std::uint32_t peer_uid_ = 0;
  std::shared_ptr<ClientSession> session_;
  bool admitted_ = false;  // counted in ctx_.limits until end()
  bool goodbye_ = false;
  bool ended_ = false;
};

}  // namespace preroll::daemon
