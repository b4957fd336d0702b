#include "server.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "listen_socket.hpp"

namespace preroll::daemon {

namespace {
void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("output directory " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error("output directory " + dir + ": not writable by uid " + std::to_string(::geteuid()));
}
}  // namespace

Server::Server(DaemonConfig config)
    : config_(std::move(config)),
      policy_(MarkingPolicy::build({config_.marking, config_.triggers, config_.trigger_level})),
      signals_(io_, SIGINT, SIGTERM),
      acceptor_(io_),
      poll_timer_(io_),
      worker_(policy_, stats_),
      ctx_{config_, worker_, stats_, policy_, {}, 1} {
  prepare_output_dir(config_.output_dir);
  const int fd = open_listen_socket(config_.socket_path);
  acceptor_.assign(boost::asio::generic::seq_packet_protocol(AF_UNIX, 0), fd);
}

Server::~Server() {
  boost::system::error_code ec;
  if (acceptor_.is_open()) {
    acceptor_.close(ec);
    ::unlink(config_.socket_path.c_str());
  }
}

int Server::run() {
  ::signal(SIGPIPE, SIG_IGN);
  worker_.start();
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) stop(sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  accept_next();
  arm_poll_timer();
  spdlog::info("prerolld {}: listening on {}, writing to {}", PREROLL_VERSION, config_.socket_path,
               config_.output_dir);
  if (!policy_->enabled()) {
    spdlog::info("marking off: every window is persisted");
  } else {
    std::string list;
    for (const auto& p : policy_->patterns()) list += (list.empty() ? "'" : ", '") + p.text + "'";
    static const char* const names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
    spdlog::info("marking on: {} trigger(s){}{}; level {}; client-marked events always count",
                 policy_->patterns().size(), list.empty() ? "" : ": ", list,
                 policy_->level_threshold() < 0 ? std::string("none")
                                                : std::string(names[policy_->level_threshold()]) + " and above");
  }
  io_.run();
  worker_.stop();
  log_summary();
  return 0;
}

void Server::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, ClientConnection::Socket socket) {
    if (stopping_) return;
    if (!ec) {
      auto conn = std::make_shared<ClientConnection>(std::move(socket), ctx_);
      ctx_.connections.insert(conn);
      conn->start();
    } else if (ec != boost::asio::error::operation_aborted) {
      // EMFILE and the like: log and keep accepting rather than die.
      spdlog::warn("accept: {}", ec.message());
    }
    accept_next();
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
  spdlog::info("{}: stopping; persisting what every client has that is marked", why);
  boost::system::error_code ec;
  acceptor_.close(ec);
  ::unlink(config_.socket_path.c_str());
  poll_timer_.cancel();
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
      "persisted {}; {:.1f}% of captured bytes persisted; corrupt rings {}, rejected clients {}",
      ld(stats_.clients_attached_total), ld(stats_.windows_seen), ld(stats_.windows_persisted),
      ld(stats_.windows_discarded), ld(stats_.windows_failed), ld(stats_.events_seen), ld(stats_.events_marked),
      ld(stats_.events_persisted), ratio, ld(stats_.rings_corrupt), ld(stats_.clients_rejected));
}

}  // namespace preroll::daemon
