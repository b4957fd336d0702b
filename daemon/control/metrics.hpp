// prerolld's metrics: one catalogue (name, type, help, samples) rendered as
// the `stats` JSON reply and as the Prometheus text exposition format
// (`prerollctl stats --prometheus`), so the two never disagree. Built on
// the io thread from atomics; nothing here waits on the worker or the disk.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "daemon_stats.hpp"
#include "marking_policy.hpp"

namespace preroll::daemon::control {

// One attached client as the control socket shows it.
struct ClientView {
  std::uint32_t pid = 0;
  std::uint32_t uid = 0;
  std::string process_name;
  std::uint64_t session = 0;
  const DaemonStats* windows = nullptr;  // the client's share of the window counters
  CaptureCounters capture;               // what its library counted
  std::string file;                      // file being written ("" before the first window)
  std::uint64_t file_bytes = 0;          // bytes appended to its files
};

struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, value
  double value = 0;
};

struct Metric {
  std::string name;  // Prometheus name without the "preroll_" prefix
  std::string json;  // key in the stats JSON ("" = Prometheus only)
  const char* type;  // counter | gauge | summary
  const char* help;
  std::vector<Sample> samples;
  bool real = false;  // a fraction (ratio, mean, seconds): JSON shows a double, else an integer
};

// Daemon-wide metrics, then one labelled family per client metric (only
// the clients given: the caller filters by permission).
[[nodiscard]] std::vector<Metric> collect_metrics(const DaemonStats& stats, const MarkingPolicy& policy,
                                                  double uptime_s, const std::vector<ClientView>& clients);

// The text exposition format, version 0.0.4: HELP and TYPE lines, preroll_
// names, escaped label values, one sample a line.
[[nodiscard]] std::string to_prometheus(const std::vector<Metric>& metrics);

// The stats reply body: every metric with a JSON key (labelled families as
// objects keyed by their label), the patterns, the last marked event and
// one object per client.
[[nodiscard]] nlohmann::json to_stats_json(const std::vector<Metric>& metrics, const DaemonStats& stats,
                                           const MarkingPolicy& policy, const std::vector<ClientView>& clients);

}  // namespace preroll::daemon::control
