#include "control/control_commands.hpp"

#include <spdlog/spdlog.h>

namespace preroll::daemon::control {

namespace {
std::uint64_t ld(const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); }

nlohmann::json last_match_json(const PatternStats::LastMatch& m) {
  if (m.monotonic_ns == 0 && m.pid == 0 && m.excerpt.empty()) return nullptr;
  return {{"time_ns", m.monotonic_ns}, {"pid", m.pid}, {"excerpt", m.excerpt}};
}

bool fell_back(const MarkingPolicy& p, std::uint32_t id) {
  return p.matcher() != nullptr && id < p.matcher()->patterns().size() && p.matcher()->patterns()[id].fell_back_to_literal;
}
}  // namespace

bool privileged(const Peer& peer, std::uint32_t daemon_uid) noexcept {
  return peer.uid == 0 || peer.uid == daemon_uid;
}

nlohmann::json stats_json(const DaemonStats& s, const MarkingPolicy& policy, double uptime_s) {
  nlohmann::json j;
#define PREROLL_COUNTER(name) j[#name] = ld(s.name)
  PREROLL_COUNTER(clients_attached_total);
  PREROLL_COUNTER(clients_current);
  PREROLL_COUNTER(clients_rejected);
  PREROLL_COUNTER(clients_faulty);
  PREROLL_COUNTER(protocol_errors);
  PREROLL_COUNTER(windows_seen);
  PREROLL_COUNTER(windows_persisted);
  PREROLL_COUNTER(windows_discarded);
  PREROLL_COUNTER(windows_held);
  PREROLL_COUNTER(windows_failed);
  PREROLL_COUNTER(rings_corrupt);
  PREROLL_COUNTER(events_seen);
  PREROLL_COUNTER(events_marked);
  PREROLL_COUNTER(events_persisted);
  PREROLL_COUNTER(bytes_seen);
  PREROLL_COUNTER(bytes_persisted);
  PREROLL_COUNTER(events_lost_overwrite);
  PREROLL_COUNTER(files_created);
  PREROLL_COUNTER(files_rotated);
  PREROLL_COUNTER(files_deleted);
  PREROLL_COUNTER(bytes_deleted);
  PREROLL_COUNTER(files_open);
  PREROLL_COUNTER(disk_usage_bytes);
  PREROLL_COUNTER(disk_quota_bytes);
  PREROLL_COUNTER(write_errors);
  PREROLL_COUNTER(windows_dropped_quota);
  PREROLL_COUNTER(file_bytes_written);
  PREROLL_COUNTER(event_bytes_raw);
  PREROLL_COUNTER(fsyncs);
#undef PREROLL_COUNTER
  j["uptime_s"] = uptime_s;
  const auto seen = ld(s.bytes_seen);
  j["storage_ratio"] = seen == 0 ? 0.0 : static_cast<double>(ld(s.bytes_persisted)) / static_cast<double>(seen);
  // Bytes in files per byte of events before compression (1.0 without it).
  const auto raw = ld(s.event_bytes_raw);
  j["compression_ratio"] = raw == 0 ? 0.0 : static_cast<double>(ld(s.file_bytes_written)) / static_cast<double>(raw);
  std::uint64_t fallbacks = 0;
  j["patterns"] = nlohmann::json::array();
  for (std::uint32_t id = 0; id < policy.pattern_count(); ++id) {
    if (fell_back(policy, id)) ++fallbacks;
    j["patterns"].push_back({{"id", id},
                             {"text", policy.trigger(id).text},
                             {"hits", policy.stats().hits(id)},
                             {"last", last_match_json(policy.stats().last(id))}});
  }
  j["pattern_fallbacks"] = fallbacks;
  return j;
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

std::string handle_request(const Request& request, const Peer& peer, const ControlState& state) noexcept {
  try {
    const bool priv = privileged(peer, state.daemon_uid);
    if (is_mutating(request.cmd) && !priv)
      return error_reply(std::string(command_name(request.cmd)) + ": permission denied (only root and uid " +
                         std::to_string(state.daemon_uid) + " may)");
    switch (request.cmd) {
      case Command::version:
        return ok_reply({{"version", PREROLL_VERSION}});
      case Command::stats: {
        const double up =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - state.started).count();
        return ok_reply(stats_json(state.stats, *state.policy.load(), up));
      }
      case Command::policy:
        return ok_reply({{"policy", policy_json(*state.policy.load())}});
      case Command::clients: {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& c : state.connections) {
          const auto s = c->session();
          if (!s) continue;  // connected, not attached yet
          if (!priv && s->identity.uid != peer.uid) continue;
          list.push_back({{"pid", s->identity.pid},
                          {"uid", s->identity.uid},
                          {"process_name", s->identity.process_name},
                          {"session", s->id}});
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
    }
    return error_reply("unhandled command");
  } catch (const std::exception& e) {
    return error_reply(std::string("internal error: ") + e.what());
  } catch (...) {
    return error_reply("internal error");
  }
}

}  // namespace preroll::daemon::control
