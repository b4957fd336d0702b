#include "top.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "control_client.hpp"
#include "render.hpp"

namespace preroll::ctl {

namespace {

std::uint64_t u(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// 1234567 -> "1.2M"; keeps columns narrow.
std::string human(double v) {
  char b[32];
  if (v >= 1e9) std::snprintf(b, sizeof b, "%.1fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(b, sizeof b, "%.1fM", v / 1e6);
  else if (v >= 1e4) std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  else std::snprintf(b, sizeof b, "%.0f", v);
  return b;
}

std::string bytes(double v) {
  char b[32];
  if (v >= 1024.0 * 1024 * 1024) std::snprintf(b, sizeof b, "%.1fG", v / (1024.0 * 1024 * 1024));
  else if (v >= 1024.0 * 1024) std::snprintf(b, sizeof b, "%.1fM", v / (1024.0 * 1024));
  else if (v >= 1024.0) std::snprintf(b, sizeof b, "%.1fK", v / 1024.0);
  else std::snprintf(b, sizeof b, "%.0fB", v);
  return b;
}

int terminal_rows() {
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  return 24;
}

struct Sample {
  json stats;
  std::chrono::steady_clock::time_point at;
};

void draw(const Sample& now, const Sample* before, const std::string& socket_path) {
  const json& s = now.stats;
  const double dt = before ? std::chrono::duration<double>(now.at - before->at).count() : 0.0;
  const auto rate = [&](const char* key) {
    if (before == nullptr || dt <= 0) return 0.0;
    const std::uint64_t a = u(before->stats, key), b = u(s, key);
    return b >= a ? static_cast<double>(b - a) / dt : 0.0;
  };
  const std::uint64_t lost = lost_events(s);

  // Every line below stays within 80 columns.
  char line[256];
  std::snprintf(line, sizeof line, "prerolld  up %.0fs  clients %llu  socket %.40s", s.value("uptime_s", 0.0),
                static_cast<unsigned long long>(u(s, "clients_current")), socket_path.c_str());
  std::printf("%.80s\n", line);
  std::snprintf(line, sizeof line, "events/s %8s  marked/s %6s  lost %8s  windows/s %6s kept %6s",
                human(rate("events_captured")).c_str(), human(rate("events_marked")).c_str(),
                human(static_cast<double>(lost)).c_str(), human(rate("windows_seen")).c_str(),
                human(rate("windows_persisted")).c_str());
  std::printf("%.80s\n", line);
  std::snprintf(line, sizeof line, "disk %7s/s  used %7s of %7s  files %4llu open %3llu  errors %llu",
                bytes(rate("file_bytes_written")).c_str(), bytes(static_cast<double>(u(s, "disk_usage_bytes"))).c_str(),
                u(s, "disk_quota_bytes") == 0 ? "-" : bytes(static_cast<double>(u(s, "disk_quota_bytes"))).c_str(),
                static_cast<unsigned long long>(u(s, "files_created")),
                static_cast<unsigned long long>(u(s, "files_open")),
                static_cast<unsigned long long>(u(s, "write_errors") + u(s, "windows_failed")));
  std::printf("%.80s\n", line);
  std::snprintf(line, sizeof line, "decision p50 %6.0fus p99 %6.0fus  marking %5.1f ns/ev  stored %5.1f%%",
                s.value("decision_latency_p50_us", 0.0), s.value("decision_latency_p99_us", 0.0),
                s.value("marking_ns_per_event", 0.0), 100.0 * s.value("storage_ratio", 0.0));
  std::printf("%.80s\n\n", line);

  // Clients, busiest first (events per second since the last refresh).
  std::map<std::uint64_t, json> previous;
  if (before != nullptr)
    for (const auto& c : before->stats.value("clients", json::array())) previous[u(c, "session")] = c;
  struct Row {
    double events_rate;
    std::string text;
  };
  std::vector<Row> rows;
  for (const auto& c : s.value("clients", json::array())) {
    const auto it = previous.find(u(c, "session"));
    const auto client_rate = [&](const char* key) {
      if (it == previous.end() || dt <= 0) return 0.0;
      const std::uint64_t a = u(it->second, key), b = u(c, key);
      return b >= a ? static_cast<double>(b - a) / dt : 0.0;
    };
    const std::uint64_t client_lost = lost_events(c);
    const double ev = client_rate("events_captured");
    std::snprintf(line, sizeof line, "%7llu %-16.16s %9s %8s %7s %7s %9s %7s",
                  static_cast<unsigned long long>(u(c, "pid")), str(c.value("process_name", json(""))).c_str(),
                  human(ev).c_str(), human(client_rate("events_marked")).c_str(),
                  human(static_cast<double>(client_lost)).c_str(),
                  human(static_cast<double>(u(c, "windows_persisted"))).c_str(),
                  bytes(static_cast<double>(u(c, "file_bytes"))).c_str(),
                  human(client_rate("windows_persisted")).c_str());
    rows.push_back({ev, line});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.events_rate > b.events_rate; });
  std::printf("%7s %-16s %9s %8s %7s %7s %9s %7s\n", "PID", "PROCESS", "EVENTS/s", "MARKED/s", "LOST", "KEPT",
              "DISK", "KEPT/s");
  const int room = std::max(1, terminal_rows() - 8);
  for (int i = 0; i < static_cast<int>(rows.size()) && i < room; ++i) std::printf("%.80s\n", rows[i].text.c_str());
  if (static_cast<int>(rows.size()) > room) std::printf("... %d more\n", static_cast<int>(rows.size()) - room);
  if (!s.value("all_users", true)) std::printf("(only your own processes are shown)\n");
}

}  // namespace

int run_top(const std::string& control_path, const std::string& socket_path, const TopOptions& options) {
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  std::optional<Sample> before;
  for (int i = 0; options.iterations == 0 || i < options.iterations; ++i) {
    if (i != 0) std::this_thread::sleep_for(std::chrono::duration<double>(options.interval_s));
    Sample now;
    try {
      now.stats = json::parse(ask(control_path, R"({"cmd":"stats"})"));
    } catch (const Failure& f) {
      std::fprintf(stderr, "prerollctl: %s [registration socket %s]\n", f.message.c_str(), socket_path.c_str());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "prerollctl: unreadable reply from %s: %s\n", control_path.c_str(), e.what());
      return 1;
    }
    now.at = std::chrono::steady_clock::now();
    if (!now.stats.value("ok", false)) {
      std::fprintf(stderr, "prerollctl: top: %s\n", str(now.stats.value("error", json("error"))).c_str());
      return 1;
    }
    // A terminal gets a redrawn screen; a pipe gets one block per refresh.
    if (tty) std::printf("\x1b[H\x1b[2J");
    else if (i != 0) std::printf("\n");
    draw(now, before ? &*before : nullptr, socket_path);
    std::fflush(stdout);
    before = std::move(now);
  }
  return 0;
}

}  // namespace preroll::ctl
