// What the control socket's commands answer, built from the daemon's state
// on the io thread (no disk, no waiting on the worker). Separate from the
// socket code so it can be tested without one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "client_connection.hpp"
#include "control/control_protocol.hpp"
#include "daemon_stats.hpp"
#include "marking_policy.hpp"

namespace preroll::daemon::control {

// The caller, from SO_PEERCRED.
struct Peer {
  std::uint32_t pid = 0;
  std::uint32_t uid = 0;
};

// What the commands read (and, for reload, do). Owned by the Server.
struct ControlState {
  const DaemonStats& stats;
  const PolicyHolder& policy;
  const std::set<std::shared_ptr<ClientConnection>>& connections;
  std::uint32_t daemon_uid = 0;
  std::chrono::steady_clock::time_point started;
  std::function<void()> reload;  // starts an asynchronous reload
  // Queues a manual snapshot of the attached client with this pid; false
  // when there is none.
  std::function<bool(std::uint32_t pid)> snapshot;
};

// Root and the daemon's own uid may mutate and see every client.
[[nodiscard]] bool privileged(const Peer& peer, std::uint32_t daemon_uid) noexcept;

[[nodiscard]] nlohmann::json stats_json(const DaemonStats& stats, const MarkingPolicy& policy, double uptime_s);
[[nodiscard]] nlohmann::json policy_json(const MarkingPolicy& policy);

// The reply line (newline included) to one request; never throws.
[[nodiscard]] std::string handle_request(const Request& request, const Peer& peer, const ControlState& state) noexcept;

}  // namespace preroll::daemon::control
