// One client's registration connection, on the io thread: receives HELLO
// (with the segment descriptor), doorbells and GOODBYE; checks the peer's
// credentials and the descriptor's seals; creates the ClientSession; and on
// disconnect hands the session to the worker for its final drain.
#pragma once

#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <system_error>

#include "client_session.hpp"
#include "config.hpp"
#include "daemon_stats.hpp"
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
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  using Socket = boost::asio::generic::seq_packet_protocol::socket;

  ClientConnection(Socket socket, ConnectionContext& ctx);
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

  Socket socket_;
  ConnectionContext& ctx_;
  std::uint32_t peer_pid_ = 0;
  std::uint32_t peer_uid_ = 0;
  std::shared_ptr<ClientSession> session_;
  bool goodbye_ = false;
  bool ended_ = false;
};

}  // namespace preroll::daemon
