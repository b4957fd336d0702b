#include "server.hpp"

#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "listen_socket.hpp"
#include "preroll/shm/paths.hpp"
#include "systemd/socket_activation.hpp"

namespace preroll::daemon {

namespace {
const std::string& prepared_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("output directory " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error("output directory " + dir + ": not writable by uid " + std::to_string(::geteuid()));
  return dir;
}
}  // namespace

Server::Server(DaemonConfig config)
    : config_(std::move(config)),
      policy_(MarkingPolicy::build(config_.policy)),
      store_(prepared_output_dir(config_.output_dir), config_.storage, stats_),
      signals_(io_, SIGINT, SIGTERM),
      reload_signals_(io_, SIGHUP),
      acceptor_(io_),
      accept_retry_(io_),
      poll_timer_(io_),
      worker_(policy_, stats_, &store_),
      ctx_{config_, worker_, store_, stats_, policy_, {}, 1, {}, {}, {}, {}, {}},
      notifier_(io_, stats_, [this] { return worker_.heartbeat(); }) {
  // Sockets systemd passed (prerolld.socket, prerolld-control.socket) are
  // taken by open_listen_socket instead of binding.
  systemd::adopt_listen_fds({{"registration", config_.socket_path, SOCK_SEQPACKET},
                             {"control", shm::control_socket_path(config_.socket_path), SOCK_STREAM}});
  // The control socket first: whoever sees the registration socket accept
  // (a client, a test, a script waiting for start-up) can use prerollctl
  // already. If the registration socket then fails, control_ is destroyed
  // with the other members and removes its socket.
  control_ = std::make_unique<control::ControlServer>(
        io_, shm::control_socket_path(config_.socket_path),
        control::ControlState{stats_, policy_, ctx_.connections, static_cast<std::uint32_t>(::geteuid()),
                              std::chrono::steady_clock::now(),
                              [this] {
                                if (!stopping_) reload();
                              },
                              [this](std::uint32_t pid) {
                                for (const auto& c : ctx_.connections) {
                                  auto s = c->session();
                                  if (!s || s->identity.pid != pid) continue;
                                  worker_.request_snapshot(std::const_pointer_cast<ClientSession>(s));
                                  return true;
                                }
                                return false;
                              },
                              [this](std::uint32_t pid, std::function<void(nlohmann::json)> done) {
                                std::vector<std::shared_ptr<ClientSession>> clients;
                                for (const auto& c : ctx_.connections) {
                                  auto s = c->session();
                                  if (!s || (pid != 0 && s->identity.pid != pid)) continue;
                                  clients.push_back(std::const_pointer_cast<ClientSession>(s));
                                }
                                if (pid != 0 && clients.empty()) return false;
                                // The worker calls back on its thread; the reply goes out on ours.
                                worker_.request_flush(std::move(clients), [this, done = std::move(done)](nlohmann::json r) {
                                  boost::asio::post(io_, [done, r = std::move(r)]() mutable { done(std::move(r)); });
                                });
                                return true;
                              }},
        stats_, control::ControlLimits{config_.max_control_connections, config_.max_control_connections_per_user});
  const int fd = open_listen_socket(config_.socket_path, SOCK_SEQPACKET, "socket");
  acceptor_.assign(boost::asio::generic::seq_packet_protocol(AF_UNIX, 0), fd);
}

Server::~Server() {
  if (reload_thread_.joinable()) reload_thread_.join();
  boost::system::error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    remove_listen_socket(config_.socket_path);
  }
  control_.reset();  // unlinks its path if still open and not systemd's
}

int Server::run() {
  ::signal(SIGPIPE, SIG_IGN);
  worker_.start();
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  accept_next();
  control_->start();
  arm_poll_timer();
  spdlog::info("prerolld {}: listening on {}, writing to {}", PREROLL_VERSION, config_.socket_path,
               config_.output_dir);
  spdlog::info("control socket {}", control_->path());
  log_policy(*policy_.load());
  wait_for_reload_signal();
  notifier_.ready();  // both sockets listen, the output directory is writable
  io_.run();
  worker_.stop();
  log_summary();
  return 0;
}

void Server::log_policy(const MarkingPolicy& p) const {
  if (!p.enabled()) {
    spdlog::info("marking off: every window is persisted");
    return;
  }
  static const char* const levels[] = {"trace", "debug", "info", "warn", "error", "fatal"};
  std::string list;
  for (const auto& t : p.config().triggers) {
    list += list.empty() ? "" : ", ";
    list += (t.kind == PatternKind::regex ? "re:'" : "'") + t.text + "'";
    if (t.min_count > 1)
      list += " x" + std::to_string(t.min_count) + " within " + std::to_string(t.within_ns / 1000000) + " ms";
  }
  spdlog::info("marking on: {} trigger(s){}{} [{}]; level {}; client-marked events always count",
               p.pattern_count(), list.empty() ? "" : ": ", list,
               p.matcher() ? std::string(p.matcher()->engine()) : std::string("no patterns"),
               p.level_threshold() < 0 ? std::string("none") : std::string(levels[p.level_threshold()]) + " and above");
  for (const auto& w : p.warnings()) spdlog::warn("{}", w);
}

void Server::wait_for_reload_signal() {
  reload_signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec || stopping_) return;
    reload();
    wait_for_reload_signal();
  });
}

void Server::reload() {
  // Compiling hundreds of patterns takes a while: do it off the io thread
  // (sockets keep being served) and off the worker (marking never stalls);
  // the worker picks the new policy up at its next window.
  if (reload_thread_.joinable()) {
    if (reloading_.load(std::memory_order_acquire)) {
      spdlog::info("reload: one is already in progress; this request is folded into it");
      reload_again_ = true;
      return;
    }
    reload_thread_.join();
  }
  reloading_.store(true, std::memory_order_release);
  notifier_.reloading();
  reload_thread_ = std::thread([this] {
    std::vector<const char*> argv;
    for (const auto& a : config_.argv) argv.push_back(a.c_str());
    auto parsed = parse_command_line(static_cast<int>(argv.size()), argv.data());
    std::shared_ptr<const MarkingPolicy> next;
    std::string error;
    if (!parsed.config) {
      error = "configuration rejected, the running policy stays:\n" + parsed.message;
    } else {
      try {
        next = MarkingPolicy::build(parsed.config->policy);
      } catch (const std::exception& e) {
        error = std::string("policy rejected, the running policy stays: ") + e.what();
      }
    }
    const std::string source = parsed.config && !parsed.config->config_file.empty()
                                   ? " (from " + parsed.config->config_file + ")"
                                   : std::string();
    boost::asio::post(io_, [this, next, error, source] {
      reloading_.store(false, std::memory_order_release);
      if (next) {
        policy_.store(next);
        spdlog::info("reload: new policy in force{}", source);
        log_policy(*next);
      } else {
        spdlog::error("reload: {}", error);
      }
      if (reload_again_ && !stopping_) {
        reload_again_ = false;
        reload();
      } else {
        notifier_.reloaded();
      }
    });
  });
}

void Server::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, ClientConnection::Socket socket) {
    if (stopping_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) {
      auto conn = std::make_shared<ClientConnection>(std::move(socket), ctx_);
      ctx_.connections.insert(conn);
      conn->start();  // may refuse it at once (limits)
      accept_next();
      return;
    }
    // EMFILE and the like: keep accepting rather than die, but not at once.
    // The connection stays queued and the socket readable, so an immediate
    // retry would spin at full CPU and log a line per turn while the
    // descriptor table is full; clients already attached are served meanwhile.
    DaemonStats::add(stats_.accept_errors);
    std::uint64_t held = 0;
    if (accept_error_log_.admit(held))
      spdlog::warn("registration socket: accept failed: {}; retrying every 100 ms{}", ec.message(),
                   LogThrottle::note(held));
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](const boost::system::error_code& e) {
      if (!e && !stopping_) accept_next();
    });
  });
}

void Server::arm_poll_timer() {
  poll_timer_.expires_after(std::chrono::milliseconds(config_.poll_interval_ms));
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    for (const auto& c : ctx_.connections) c->poll();
    arm_poll_timer();
  });
}

void Server::stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  notifier_.stopping();
  spdlog::info("{}: stopping; persisting what every client has that is marked", why);
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_retry_.cancel();
  remove_listen_socket(config_.socket_path);
  if (control_) control_->stop();  // unlinks its path unless systemd owns it
  poll_timer_.cancel();
  reload_signals_.cancel();
  const auto connections = ctx_.connections;  // shutdown() erases from the set
  for (const auto& c : connections) c->shutdown();
}

void Server::log_summary() const {
  const auto ld = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  const double ratio = ld(stats_.bytes_seen) == 0 ? 0.0
                                                  : 100.0 * static_cast<double>(ld(stats_.bytes_persisted)) /
                                                        static_cast<double>(ld(stats_.bytes_seen));
  spdlog::info(
      "stopped: {} client(s); windows seen {}, persisted {}, discarded {}, failed {}; events seen {}, marked {}, "
      "persisted {}; {:.1f}% of captured bytes persisted; corrupt rings {}, rejected clients {}, refused connections "
      "{}, HELLO timeouts {}",
      ld(stats_.clients_attached_total), ld(stats_.windows_seen), ld(stats_.windows_persisted),
      ld(stats_.windows_discarded), ld(stats_.windows_failed), ld(stats_.events_seen), ld(stats_.events_marked),
      ld(stats_.events_persisted), ratio, ld(stats_.rings_corrupt), ld(stats_.clients_rejected),
      ld(stats_.refused_max_clients) + ld(stats_.refused_per_user) + ld(stats_.refused_quarantined),
      ld(stats_.hello_timeouts));
  spdlog::info("storage: {} file(s) created, {} rotated, {} deleted by the quota; {} written; write errors {}, "
               "windows dropped at the quota {}; output holds {}",
               ld(stats_.files_created), ld(stats_.files_rotated), ld(stats_.files_deleted),
               format_size(ld(stats_.file_bytes_written)), ld(stats_.write_errors), ld(stats_.windows_dropped_quota),
               format_size(ld(stats_.disk_usage_bytes)));
}

}  // namespace preroll::daemon
