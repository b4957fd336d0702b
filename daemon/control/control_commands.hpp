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
  // Queues a flush of one client (pid) or all (0): drain, write every marked
  // event waiting in an active ring, fdatasync the files. `done` runs on the
  // io thread with the result ({"clients":N,"windows_written":M}). False when
  // no such client is attached (done never runs).
  std::function<bool(std::uint32_t pid, std::function<void(nlohmann::json)> done)> flush;
};

// Sends a reply line that is not ready yet (flush); called on the io thread.
using DeferredReply = std::function<void(std::string reply_line)>;

// Root and the daemon's own uid may mutate and see every client.
[[nodiscard]] bool privileged(const Peer& peer, std::uint32_t daemon_uid) noexcept;

[[nodiscard]] nlohmann::json policy_json(const MarkingPolicy& policy);

// The reply line (newline included) to one request; never throws. An empty
// string means the reply comes later through `deferred` (flush); without a
// `deferred`, such commands answer an error.
[[nodiscard]] std::string handle_request(const Request& request, const Peer& peer, const ControlState& state,
                                         DeferredReply deferred = {}) noexcept;

}  // namespace preroll::daemon::control
