#include "systemd/service_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <spdlog/spdlog.h>

#include "storage/storage_config.hpp"

namespace preroll::daemon::systemd {

namespace {
std::uint64_t ld(const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); }

std::string count(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}
}  // namespace

std::string status_line(const DaemonStats& s) {
  // Statistics only: each counter is read on its own (relaxed), the line
  // is not a consistent snapshot and need not be.
  std::string line = count(ld(s.clients_current), "client", "clients") + " attached; windows: " +
                     std::to_string(ld(s.windows_persisted)) + " persisted, " +
                     std::to_string(ld(s.windows_discarded)) + " discarded; disk " +
                     format_size(ld(s.disk_usage_bytes));
  const std::uint64_t quota = ld(s.disk_quota_bytes);
  line += quota == 0 ? std::string(" (no quota)") : " of " + format_size(quota);
  if (const std::uint64_t errors = ld(s.write_errors); errors != 0)
    line += ", " + count(errors, "write error", "write errors");
  return line;
}

ServiceNotifier::ServiceNotifier(boost::asio::io_context& io, const DaemonStats& stats,
                                 std::function<std::uint64_t()> worker_heartbeat)
    : stats_(stats),
      worker_heartbeat_(std::move(worker_heartbeat)),
      enabled_(std::getenv("NOTIFY_SOCKET") != nullptr),
      status_timer_(io),
      watchdog_timer_(io) {
  std::uint64_t usec = 0;
  // unset_environment=0: sd_notify keeps needing NOTIFY_SOCKET. WATCHDOG_PID,
  // when set, must be ours (sd_watchdog_enabled checks).
  if (enabled_ && ::sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_period_ = std::chrono::microseconds(std::max<std::uint64_t>(usec / 2, 1));
}

void ServiceNotifier::send(const std::string& state) const {
  if (!enabled_) return;
  const int rc = ::sd_notify(0, state.c_str());
  if (rc < 0) spdlog::debug("sd_notify: {}", std::strerror(-rc));
}

void ServiceNotifier::ready() {
  if (!enabled_) return;
  last_status_ = status_line(stats_);
  send("READY=1\nSTATUS=" + last_status_);
  arm_status_timer();
  if (watchdog_period_.count() > 0) {
    spdlog::info("systemd watchdog: pinging every {} ms", watchdog_period_.count() / 1000);
    beat_at_last_tick_ = worker_heartbeat_();
    send("WATCHDOG=1");
    arm_watchdog_timer();
  }
}

void ServiceNotifier::reloading() {
  if (!enabled_ || reloading_ || stopping_) return;
  reloading_ = true;
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::reloaded() {
  if (!enabled_ || !reloading_ || stopping_) return;
  reloading_ = false;
  last_status_ = status_line(stats_);
  send("READY=1\nSTATUS=" + last_status_);
}

void ServiceNotifier::stopping() {
  if (!enabled_ || stopping_) return;
  stopping_ = true;
  status_timer_.cancel();
  watchdog_timer_.cancel();
  send("STOPPING=1\nSTATUS=stopping: persisting what clients hold that is marked");
}

void ServiceNotifier::arm_status_timer() {
  status_timer_.expires_after(status_interval);
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    std::string line = status_line(stats_);
    if (line != last_status_) {
      last_status_ = std::move(line);
      send("STATUS=" + last_status_);
    }
    arm_status_timer();
  });
}

void ServiceNotifier::arm_watchdog_timer() {
  watchdog_timer_.expires_after(watchdog_period_);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    const std::uint64_t beat = worker_heartbeat_();
    if (worker_alive(beat, beat_at_last_tick_)) {
      if (stall_logged_) spdlog::info("systemd watchdog: the persistence worker moves again; pinging");
      stall_logged_ = false;
      send("WATCHDOG=1");
    } else if (!stall_logged_) {
      // No ping: if the task never ends, systemd's WatchdogSec expires and
      // it restarts the daemon (Restart=on-failure); clients reattach.
      stall_logged_ = true;
      spdlog::warn("systemd watchdog: the persistence worker has been on one task for over {} ms; not pinging",
                   watchdog_period_.count() / 1000);
    }
    beat_at_last_tick_ = beat;
    arm_watchdog_timer();
  });
}

}  // namespace preroll::daemon::systemd
