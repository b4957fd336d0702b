#include "control/control_commands.hpp"

#include <spdlog/spdlog.h>

#include "control/metrics.hpp"

namespace preroll::daemon::control {

namespace {

nlohmann::json last_match_json(const PatternStats::LastMatch& m) {
  if (m.monotonic_ns == 0 && m.pid == 0 && m.excerpt.empty()) return nullptr;
  return {{"time_ns", m.monotonic_ns}, {"pid", m.pid}, {"excerpt", m.excerpt}};
}

// The attached clients this peer may see: all for root and the daemon's
// uid, else only the peer's own processes.
std::vector<ClientView> visible_clients(const Peer& peer, const ControlState& state, bool priv) {
  std::vector<ClientView> out;
  for (const auto& c : state.connections) {
    const auto s = c->session();
    if (!s) continue;  // connected, not attached yet
    if (!priv && s->identity.uid != peer.uid) continue;
    out.push_back(ClientView{s->identity.pid, s->identity.uid, s->identity.process_name, s->id,
                             &s->segment.own_stats(), s->segment.capture_counters(), s->sink.file().string(),
                             s->sink.bytes_written()});
  }
  return out;
}

}  // namespace

bool privileged(const Peer& peer, std::uint32_t daemon_uid) noexcept {
  return peer.uid == 0 || peer.uid == daemon_uid;
}

nlohmann::json policy_json(const MarkingPolicy& policy) {
  nlohmann::json j = nlohmann::json::parse(policy.to_json());
  if (j.contains("patterns") && j["patterns"].is_array()) {
    for (auto& pj : j["patterns"]) {
      const auto id = pj.value("id", std::uint32_t{0});
      if (id >= policy.pattern_count()) continue;
      pj["hits"] = policy.stats().hits(id);
      pj["last"] = last_match_json(policy.stats().last(id));
    }
  }
  j["warnings"] = policy.warnings();
  return j;
}

std::string handle_request(const Request& request, const Peer& peer, const ControlState& state,
                           DeferredReply deferred) noexcept {
  try {
    const bool priv = privileged(peer, state.daemon_uid);
    if (is_mutating(request.cmd) && !priv)
      return error_reply(std::string(command_name(request.cmd)) + ": permission denied (only root and uid " +
                         std::to_string(state.daemon_uid) + " may)");
    switch (request.cmd) {
      case Command::version:
        return ok_reply({{"version", PREROLL_VERSION}});
      case Command::stats: {
        // A user who is neither root nor the daemon's sees totals and only
        // their own processes.
        const double up =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - state.started).count();
        const auto policy = state.policy.load();
        const std::vector<ClientView> clients = visible_clients(peer, state, priv);
        const std::vector<Metric> metrics = collect_metrics(state.stats, *policy, up, clients);
        if (request.prometheus) return ok_reply({{"prometheus", to_prometheus(metrics)}});
        nlohmann::json body = to_stats_json(metrics, state.stats, *policy, clients);
        body["all_users"] = priv;
        return ok_reply(std::move(body));
      }
      case Command::policy:
        return ok_reply({{"policy", policy_json(*state.policy.load())}});
      case Command::clients: {
        nlohmann::json list = nlohmann::json::array();
        for (const ClientView& c : visible_clients(peer, state, priv)) {
          list.push_back({{"pid", c.pid},
                          {"uid", c.uid},
                          {"process_name", c.process_name},
                          {"session", c.session},
                          {"events_captured", c.capture.events_written},
                          {"windows_persisted", c.windows->windows_persisted.load(std::memory_order_relaxed)},
                          {"file", c.file}});
        }
        return ok_reply({{"clients", std::move(list)}, {"all_users", priv}});
      }
      case Command::reload:
        if (!state.reload) return error_reply("reload: not available");
        spdlog::info("control: reload requested by pid {} uid {}", peer.pid, peer.uid);
        state.reload();
        return ok_reply({{"status", "reload started"}});
      case Command::snapshot:
        if (!state.snapshot) return error_reply("snapshot: not available");
        if (!state.snapshot(request.pid))
          return error_reply("snapshot: no attached client with pid " + std::to_string(request.pid));
        spdlog::info("control: snapshot of pid {} requested by pid {} uid {}{}{}", request.pid, peer.pid, peer.uid,
                     request.reason.empty() ? "" : ": ", request.reason);
        return ok_reply({{"status", "snapshot queued"}, {"pid", request.pid}});
      case Command::flush: {
        if (!state.flush || !deferred) return error_reply("flush: not available");
        const std::uint32_t pid = request.pid;
        const bool queued = state.flush(pid, [deferred, pid](nlohmann::json result) {
          result["status"] = "flushed";
          if (pid != 0) result["pid"] = pid;
          deferred(ok_reply(std::move(result)));
        });
        if (!queued) return error_reply("flush: no attached client with pid " + std::to_string(pid));
        spdlog::info("control: flush of {} requested by pid {} uid {}",
                     pid == 0 ? std::string("every client") : "pid " + std::to_string(pid), peer.pid, peer.uid);
        return {};
      }
    }
    return error_reply("unhandled command");
  } catch (const std::exception& e) {
    return error_reply(std::string("internal error: ") + e.what());
  } catch (...) {
    return error_reply("internal error");
  }
}

}  // namespace preroll::daemon::control
