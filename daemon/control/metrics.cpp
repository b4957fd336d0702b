#include "control/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "preroll/atf/types.hpp"

namespace preroll::daemon::control {

namespace {

double ld(const std::atomic<std::uint64_t>& c) { return static_cast<double>(c.load(std::memory_order_relaxed)); }

double ratio(double a, double b) { return b == 0 ? 0.0 : a / b; }

Metric one(std::string name, std::string json, const char* type, const char* help, double value) {
  return Metric{std::move(name), std::move(json), type, help, {Sample{{}, value}}};
}

Metric real(std::string name, std::string json, const char* type, const char* help, double value) {
  Metric m = one(std::move(name), std::move(json), type, help, value);
  m.real = true;
  return m;
}

// Prometheus label values escape backslash, double quote and newline.
std::string escape_label(const std::string& v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(const char* h) {
  std::string out;
  for (const char* p = h; *p != '\0'; ++p) {
    if (*p == '\\') out += "\\\\";
    else if (*p == '\n') out += "\\n";
    else out += *p;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char text[40];
  // Integers print exactly (counters reach 2^53 long after anyone cares).
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    std::snprintf(text, sizeof text, "%.0f", v);
  } else {
    std::snprintf(text, sizeof text, "%.9g", v);
  }
  return text;
}

// A client metric: one sample per client, labelled with its pid and process.
template <class Get>
Metric per_client(std::string name, const char* type, const char* help, const std::vector<ClientView>& clients,
                  Get get) {
  Metric m{std::move(name), "", type, help, {}};
  for (const ClientView& c : clients)
    m.samples.push_back({{{"pid", std::to_string(c.pid)}, {"process", c.process_name}}, get(c)});
  return m;
}

}  // namespace

std::vector<Metric> collect_metrics(const DaemonStats& s, const MarkingPolicy& policy, double uptime_s,
                                    const std::vector<ClientView>& clients) {
  std::vector<Metric> m;
  m.push_back(real("uptime_seconds", "uptime_s", "gauge", "Seconds since prerolld started.", uptime_s));
  m.push_back(one("clients", "clients_current", "gauge", "Client processes attached now.", ld(s.clients_current)));
  m.push_back(one("clients_attached_total", "clients_attached_total", "counter", "Client processes ever attached.",
                  ld(s.clients_attached_total)));
  m.push_back(one("clients_detached_total", "clients_detached_total", "counter",
                  "Client processes gone whose last windows are written and files closed.",
                  ld(s.clients_detached_total)));
  m.push_back(one("clients_rejected_total", "clients_rejected", "counter",
                  "Registrations refused (bad HELLO or segment).", ld(s.clients_rejected)));
  m.push_back(one("clients_faulty_total", "clients_faulty", "counter",
                  "Clients detached because their segment turned out corrupt.", ld(s.clients_faulty)));
  m.push_back(one("protocol_errors_total", "protocol_errors", "counter", "Malformed registration-socket messages.",
                  ld(s.protocol_errors)));

  // Limits: what the daemon refused to hold for anyone.
  m.push_back(one("registration_connections", "registration_connections", "gauge",
                  "Registration-socket connections open now, attached or not (--max-clients).",
                  ld(s.registration_connections)));
  m.push_back(Metric{"connections_refused_total", "connections_refused", "counter",
                     "Registration connections refused at connect, by limit: max_clients, per_user "
                     "(--max-clients-per-user), quarantined (the process's segment was found corrupt recently).",
                     {Sample{{{"limit", "max_clients"}}, ld(s.refused_max_clients)},
                      Sample{{{"limit", "per_user"}}, ld(s.refused_per_user)},
                      Sample{{{"limit", "quarantined"}}, ld(s.refused_quarantined)}}});
  m.push_back(one("hello_timeouts_total", "hello_timeouts", "counter",
                  "Registration connections closed without a valid HELLO within --hello-timeout.",
                  ld(s.hello_timeouts)));
  m.push_back(one("control_connections", "control_connections", "gauge", "Control-socket connections open now.",
                  ld(s.control_connections)));
  m.push_back(one("control_connections_refused_total", "control_connections_refused", "counter",
                  "Control-socket connections refused at --max-control-connections.", ld(s.control_refused)));
  m.push_back(one("accept_errors_total", "accept_errors", "counter",
                  "Failed accepts on either socket (out of descriptors or memory); accepting pauses 100 ms after each.",
                  ld(s.accept_errors)));

  // Capture, as the clients' libraries counted it.
  m.push_back(one("events_captured_total", "events_captured", "counter", "Events clients wrote into their rings.",
                  ld(s.capture_events_written)));
  m.push_back(one("bytes_captured_total", "bytes_captured", "counter", "Record bytes clients wrote into their rings.",
                  ld(s.capture_bytes_written)));
  m.push_back(one("ring_swaps_total", "ring_swaps", "counter", "Full rings clients handed to the daemon.",
                  ld(s.capture_ring_swaps)));
  m.push_back(one("events_truncated_total", "events_truncated", "counter",
                  "Events kept with their message cut at the size limit.", ld(s.capture_events_truncated)));
  m.push_back(Metric{"events_lost_total", "events_lost", "counter",
                     "Events lost before the daemon saw them, by cause: overwritten (no spare ring), nested "
                     "(emitted from a signal handler during an emit), no_lane (more threads than lanes).",
                     {Sample{{{"cause", "overwritten"}}, ld(s.capture_events_overwritten)},
                      Sample{{{"cause", "nested"}}, ld(s.capture_events_dropped_nested)},
                      Sample{{{"cause", "no_lane"}}, ld(s.capture_events_dropped_no_lane)}}});
  m.push_back(one("swaps_without_spare_total", "swaps_without_spare", "counter",
                  "Full rings with no free ring to go on with (the client then overwrites).",
                  ld(s.capture_swaps_without_spare)));

  // Decisions.
  m.push_back(one("windows_seen_total", "windows_seen", "counter", "Windows (rings) the daemon decided on.",
                  ld(s.windows_seen)));
  m.push_back(one("windows_persisted_total", "windows_persisted", "counter", "Windows written to files.",
                  ld(s.windows_persisted)));
  Metric by_reason{"windows_persisted_by_reason_total", "windows_persisted_by_reason", "counter",
                   "Windows written to files, by why they were kept.", {}};
  for (std::size_t r = 1; r <= 10; ++r)
    by_reason.samples.push_back({{{"reason", std::string(atf::to_string(static_cast<atf::KeepReason>(r)))}},
                                 ld(s.windows_by_reason[r])});
  m.push_back(std::move(by_reason));
  m.push_back(one("windows_discarded_total", "windows_discarded", "counter",
                  "Windows handed back unwritten (nothing marked nearby).", ld(s.windows_discarded)));
  m.push_back(one("windows_held_total", "windows_held", "counter",
                  "Windows held back as pre-roll (later written or discarded).", ld(s.windows_held)));
  m.push_back(one("windows_failed_total", "windows_failed", "counter",
                  "Windows that could not be written (write error or quota).", ld(s.windows_failed)));
  m.push_back(one("rings_corrupt_total", "rings_corrupt", "counter", "Rings skipped because their bytes were impossible.",
                  ld(s.rings_corrupt)));
  m.push_back(one("events_seen_total", "events_seen", "counter", "Events the daemon parsed.", ld(s.events_seen)));
  m.push_back(one("events_marked_total", "events_marked", "counter", "Events marked by the policy or the client.",
                  ld(s.events_marked)));
  m.push_back(one("events_persisted_total", "events_persisted", "counter", "Events written to files.",
                  ld(s.events_persisted)));
  m.push_back(one("bytes_seen_total", "bytes_seen", "counter", "Ring bytes handed to the daemon.", ld(s.bytes_seen)));
  m.push_back(one("bytes_persisted_total", "bytes_persisted", "counter", "Ring bytes of the windows written.",
                  ld(s.bytes_persisted)));
  m.push_back(real("storage_ratio", "storage_ratio", "gauge", "Ring bytes written / ring bytes seen.",
                  ratio(ld(s.bytes_persisted), ld(s.bytes_seen))));
  m.push_back(real("window_duration_seconds_avg", "window_duration_avg_s", "gauge",
                  "Mean time from first to last event of the windows written.",
                  ratio(ld(s.window_duration_ns_total), ld(s.windows_persisted)) / 1e9));
  m.push_back(real("events_per_window_avg", "events_per_window_avg", "gauge", "Mean events per window written.",
                  ratio(ld(s.events_persisted), ld(s.windows_persisted))));
  const auto& h = s.decision_latency;
  m.push_back(Metric{"decision_latency_seconds", "", "summary",
                     "Time to parse, mark and select one handed-over ring (writing excluded); quantiles within 19%.",
                     {Sample{{{"quantile", "0.5"}}, static_cast<double>(h.quantile_ns(0.5)) / 1e9},
                      Sample{{{"quantile", "0.99"}}, static_cast<double>(h.quantile_ns(0.99)) / 1e9}}});
  m.push_back(real("decision_latency_seconds_sum", "", "", "", static_cast<double>(h.sum_ns()) / 1e9));
  m.push_back(one("decision_latency_seconds_count", "", "", "", static_cast<double>(h.count())));
  m.push_back(real("decision_latency_p50_us", "decision_latency_p50_us", "", "",
                  static_cast<double>(h.quantile_ns(0.5)) / 1e3));
  m.push_back(real("decision_latency_p99_us", "decision_latency_p99_us", "", "",
                  static_cast<double>(h.quantile_ns(0.99)) / 1e3));
  m.push_back(real("marking_seconds_per_event", "", "gauge", "Mean pattern-matching time per event.",
                   ratio(ld(s.marking_ns_total), ld(s.marking_events_total)) / 1e9));
  m.push_back(real("marking_ns_per_event", "marking_ns_per_event", "", "",
                   ratio(ld(s.marking_ns_total), ld(s.marking_events_total))));
  std::uint32_t fallbacks = 0;
  for (std::uint32_t id = 0; id < policy.pattern_count(); ++id)
    if (policy.matcher() != nullptr && id < policy.matcher()->patterns().size() &&
        policy.matcher()->patterns()[id].fell_back_to_literal)
      ++fallbacks;
  m.push_back(one("pattern_fallbacks", "pattern_fallbacks", "gauge",
                  "Invalid regex patterns running as literals (see prerollctl policy).", fallbacks));

  // Patterns.
  Metric hits{"pattern_hits_total", "", "counter", "Events each trigger pattern marked.", {}};
  for (std::uint32_t id = 0; id < policy.pattern_count(); ++id)
    hits.samples.push_back(
        {{{"id", std::to_string(id)}, {"pattern", policy.trigger(id).text}}, static_cast<double>(policy.stats().hits(id))});
  m.push_back(std::move(hits));
  const LastMark last = s.last_marked();
  m.push_back(real("last_marked_event_timestamp_seconds", "", "gauge",
                  "CLOCK_MONOTONIC time of the last marked event written (0: none yet).",
                  static_cast<double>(last.monotonic_ns) / 1e9));

  // Storage.
  m.push_back(one("files_created_total", "files_created", "counter", "ATF files created.", ld(s.files_created)));
  m.push_back(one("files_rotated_total", "files_rotated", "counter", "Files closed at --max-file-size.",
                  ld(s.files_rotated)));
  m.push_back(one("files_deleted_total", "files_deleted", "counter", "Files deleted to honour --max-disk-usage.",
                  ld(s.files_deleted)));
  m.push_back(one("bytes_deleted_total", "bytes_deleted", "counter", "Bytes of the files the quota deleted.",
                  ld(s.bytes_deleted)));
  m.push_back(one("files_open", "files_open", "gauge", "Files being written now.", ld(s.files_open)));
  m.push_back(one("disk_usage_bytes", "disk_usage_bytes", "gauge", "Bytes of ATF files in the output directory.",
                  ld(s.disk_usage_bytes)));
  m.push_back(one("disk_quota_bytes", "disk_quota_bytes", "gauge", "--max-disk-usage in force (0: none).",
                  ld(s.disk_quota_bytes)));
  m.push_back(one("write_errors_total", "write_errors", "counter", "Failed file creates, writes, syncs and closes.",
                  ld(s.write_errors)));
  m.push_back(one("windows_dropped_quota_total", "windows_dropped_quota", "counter",
                  "Windows not written because the quota was full of files still being written.",
                  ld(s.windows_dropped_quota)));
  m.push_back(one("file_bytes_written_total", "file_bytes_written", "counter", "Bytes appended to files.",
                  ld(s.file_bytes_written)));
  m.push_back(real("compression_ratio", "compression_ratio", "gauge",
                  "Bytes in files / event bytes before compression (1 without compression).",
                  ratio(ld(s.file_bytes_written), ld(s.event_bytes_raw))));
  m.push_back(one("fsyncs_total", "fsyncs", "counter", "fdatasync calls made by the --fsync policy.", ld(s.fsyncs)));

  // Per client.
  m.push_back(per_client("client_events_captured_total", "counter", "Events the client wrote into its rings.",
                         clients, [](const ClientView& c) { return static_cast<double>(c.capture.events_written); }));
  m.push_back(per_client("client_events_lost_total", "counter",
                         "Events the client lost (overwritten, nested or without a lane).", clients,
                         [](const ClientView& c) {
                           return static_cast<double>(c.capture.events_overwritten + c.capture.events_dropped_nested +
                                                      c.capture.events_dropped_no_lane);
                         }));
  m.push_back(per_client("client_windows_persisted_total", "counter", "The client's windows written to files.",
                         clients, [](const ClientView& c) { return ld(c.windows->windows_persisted); }));
  m.push_back(per_client("client_events_marked_total", "counter", "The client's marked events.", clients,
                         [](const ClientView& c) { return ld(c.windows->events_marked); }));
  m.push_back(per_client("client_file_bytes_total", "counter", "Bytes appended to the client's files.", clients,
                         [](const ClientView& c) { return static_cast<double>(c.file_bytes); }));
  return m;
}

std::string to_prometheus(const std::vector<Metric>& metrics) {
  std::string out;
  std::string family;  // a summary's _sum and _count follow it without HELP/TYPE
  for (const Metric& m : metrics) {
    if (m.type[0] == '\0' && m.name.rfind(family + "_", 0) != 0) continue;  // JSON-only convenience values
    if (m.type[0] != '\0') {
      family = m.name;
      if (m.samples.empty() && m.type != std::string("counter")) continue;
      out += "# HELP preroll_" + m.name + " " + escape_help(m.help) + "\n";
      out += "# TYPE preroll_" + m.name + " " + m.type + "\n";
    }
    for (const Sample& s : m.samples) {
      out += "preroll_" + m.name;
      if (!s.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i != 0) out += ',';
          out += s.labels[i].first + "=\"" + escape_label(s.labels[i].second) + '"';
        }
        out += '}';
      }
      out += ' ' + number(s.value) + '\n';
    }
  }
  return out;
}

nlohmann::json to_stats_json(const std::vector<Metric>& metrics, const DaemonStats& stats, const MarkingPolicy& policy,
                             const std::vector<ClientView>& clients) {
  nlohmann::json j = nlohmann::json::object();
  for (const Metric& m : metrics) {
    if (m.json.empty() || m.samples.empty()) continue;
    if (m.samples.size() == 1 && m.samples[0].labels.empty()) {
      const double v = m.samples[0].value;
      if (m.real || v < 0) j[m.json] = v;
      else j[m.json] = static_cast<std::uint64_t>(v);
      continue;
    }
    nlohmann::json by = nlohmann::json::object();
    for (const Sample& s : m.samples) by[s.labels.empty() ? "" : s.labels[0].second] = static_cast<std::uint64_t>(s.value);
    j[m.json] = std::move(by);
  }
  j["patterns"] = nlohmann::json::array();
  for (std::uint32_t id = 0; id < policy.pattern_count(); ++id) {
    const auto last = policy.stats().last(id);
    nlohmann::json lj = nullptr;
    if (last.monotonic_ns != 0 || last.pid != 0 || !last.excerpt.empty())
      lj = {{"time_ns", last.monotonic_ns}, {"pid", last.pid}, {"excerpt", last.excerpt}};
    j["patterns"].push_back({{"id", id}, {"text", policy.trigger(id).text}, {"hits", policy.stats().hits(id)}, {"last", lj}});
  }

  const LastMark last = stats.last_marked();
  if (last.monotonic_ns == 0) {
    j["last_marked"] = nullptr;
  } else {
    j["last_marked"] = {{"time_ns", last.monotonic_ns},
                        {"pid", last.pid},
                        {"pattern_id", last.pattern_id},
                        {"pattern", last.pattern_id >= 0 && static_cast<std::uint32_t>(last.pattern_id) < policy.pattern_count()
                                        ? nlohmann::json(policy.trigger(static_cast<std::uint32_t>(last.pattern_id)).text)
                                        : nlohmann::json(nullptr)},
                        {"excerpt", last.excerpt}};
  }

  j["clients"] = nlohmann::json::array();
  for (const ClientView& c : clients) {
    const DaemonStats& w = *c.windows;
    const auto l = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    j["clients"].push_back({{"pid", c.pid},
                            {"uid", c.uid},
                            {"process_name", c.process_name},
                            {"session", c.session},
                            {"events_captured", c.capture.events_written},
                            {"bytes_captured", c.capture.bytes_written},
                            {"events_lost", {{"overwritten", c.capture.events_overwritten},
                                             {"nested", c.capture.events_dropped_nested},
                                             {"no_lane", c.capture.events_dropped_no_lane}}},
                            {"events_truncated", c.capture.events_truncated},
                            {"ring_swaps", c.capture.ring_swaps},
                            {"windows_seen", l(w.windows_seen)},
                            {"windows_persisted", l(w.windows_persisted)},
                            {"windows_discarded", l(w.windows_discarded)},
                            {"windows_held", l(w.windows_held)},
                            {"windows_failed", l(w.windows_failed)},
                            {"events_marked", l(w.events_marked)},
                            {"events_persisted", l(w.events_persisted)},
                            {"file", c.file},
                            {"file_bytes", c.file_bytes}});
  }
  return j;
}

}  // namespace preroll::daemon::control
