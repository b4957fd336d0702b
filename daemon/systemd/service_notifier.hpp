// Type=notify: tells systemd (sd_notify(3)) when prerolld is ready, reloading
// and stopping, keeps a one-line STATUS= current, and pings the watchdog
// while the daemon works. Everything is a no-op when NOTIFY_SOCKET is unset
// (no timers are armed either).
//
// All calls and both timers run on the io thread. The watchdog ping proves
// the io thread turns (the timer fired) and the persistence worker is not
// stuck: the worker's heartbeat (PersistenceWorker::heartbeat) must have
// moved since the previous ping, or the worker must be idle.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "daemon_stats.hpp"

namespace preroll::daemon::systemd {

inline constexpr std::chrono::seconds status_interval{5};

// STATUS= text: "3 clients attached; windows: 120 persisted, 4012 discarded; disk 12.0 MiB of 4.0 GiB"
// (", N write errors" added when there are any).
std::string status_line(const DaemonStats& stats);

// Whether the watchdog may be pinged, from the worker heartbeat now and at
// the previous watchdog tick: odd means busy with a task, even idle (waiting
// for work). Busy on one task for a whole tick counts as stuck.
[[nodiscard]] constexpr bool worker_alive(std::uint64_t beat, std::uint64_t beat_at_last_tick) noexcept {
  return beat % 2 == 0 || beat != beat_at_last_tick;
}

class ServiceNotifier {
 public:
  // `worker_heartbeat` is read on the io thread at each watchdog tick.
  ServiceNotifier(boost::asio::io_context& io, const DaemonStats& stats,
                  std::function<std::uint64_t()> worker_heartbeat);
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  // The watchdog ping period (half of WatchdogSec), zero when off.
  [[nodiscard]] std::chrono::microseconds watchdog_period() const noexcept { return watchdog_period_; }

  // READY=1 with the first STATUS=; starts the status and watchdog timers.
  // Call once the sockets listen and the output directory is usable.
  void ready();
  // RELOADING=1 (with MONOTONIC_USEC) once per reload, however many SIGHUPs fold into it.
  void reloading();
  // READY=1 after a reload, whatever its outcome (a rejected configuration
  // leaves the old policy running), with a fresh STATUS=.
  void reloaded();
  // STOPPING=1; stops both timers so the io_context can run out of work.
  void stopping();

 private:
  void send(const std::string& state) const;
  void arm_status_timer();
  void arm_watchdog_timer();

  const DaemonStats& stats_;
  std::function<std::uint64_t()> worker_heartbeat_;
  bool enabled_ = false;
  std::chrono::microseconds watchdog_period_{0};
  boost::asio::steady_timer status_timer_;
  boost::asio::steady_timer watchdog_timer_;
  std::string last_status_;
  std::uint64_t beat_at_last_tick_ = 0;
  bool reloading_ = false;
  bool stopping_ = false;
  bool stall_logged_ = false;
};

}  // namespace preroll::daemon::systemd
