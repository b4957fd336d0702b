// prerolld's top level: the io_context with its registration acceptor, signal
// handling and poll timer, the control socket, and the persistence worker. Graceful stop: close
// the acceptor, finalize every client, let the worker finish, return.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <memory>
#include <thread>

#include "client_connection.hpp"
#include "config.hpp"
#include "control/control_server.hpp"
#include "daemon_stats.hpp"
#include "log_throttle.hpp"
#include "marking_policy.hpp"
#include "persistence_worker.hpp"
#include "storage/file_store.hpp"
#include "systemd/service_notifier.hpp"

namespace preroll::daemon {

class Server {
 public:
  // Prepares the output directory and the listening socket. Throws
  // std::runtime_error with a message for the operator on failure.
  explicit Server(DaemonConfig config);
  ~Server();

  // Serves until SIGINT/SIGTERM; returns the process exit status.
  int run();

  [[nodiscard]] const DaemonStats& stats() const noexcept { return stats_; }

 private:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::seq_packet_protocol>;

  void accept_next();
  void arm_poll_timer();
  void stop(const char* why);
  void wait_for_reload_signal();
  // Re-reads the configuration (command line and config file) on a thread
  // of its own and swaps in the new policy; a bad configuration is logged
  // and the running policy stays.
  void reload();
  void log_policy(const MarkingPolicy& p) const;
  void log_summary() const;

  DaemonConfig config_;
  DaemonStats stats_;
  PolicyHolder policy_;
  FileStore store_;  // before worker_ and ctx_: sessions write through it
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set reload_signals_;
  Acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;  // the pause after a failed accept
  LogThrottle accept_error_log_;
  boost::asio::steady_timer poll_timer_;
  PersistenceWorker worker_;
  ConnectionContext ctx_;
  systemd::ServiceNotifier notifier_;  // Type=notify: READY, RELOADING, STOPPING, STATUS, WATCHDOG
  bool stopping_ = false;
  std::thread reload_thread_;            // builds the next policy
  std::atomic<bool> reloading_{false};   // set by the io thread, cleared when the result is posted back
  bool reload_again_ = false;            // a SIGHUP arrived during a reload (io thread only)
  // The control socket (prerollctl), at shm::control_socket_path(socket_path).
  // Declared after io_ and ctx_: destroyed before them.
  std::unique_ptr<control::ControlServer> control_;
};

}  // namespace preroll::daemon
