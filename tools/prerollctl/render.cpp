#include "render.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

namespace preroll::ctl {

std::string num(const json& v) {
  if (v.is_number_float()) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

namespace {
std::string last_text(const json& last) {
  if (!last.is_object()) return "";
  return "last: pid " + num(last.value("pid", json(0))) + " \"" + str(last.value("excerpt", json(""))) + "\"";
}

}  // namespace

std::uint64_t lost_events(const json& j) {
  const auto it = j.find("events_lost");
  std::uint64_t n = 0;
  if (it == j.end() || !it->is_object()) return 0;
  for (const auto& cause : *it)
    if (cause.is_number_unsigned()) n += cause.get<std::uint64_t>();
  return n;
}

void print_stats(const json& j) {
  // Counters and gauges, then the labelled ones (by reason, by cause) as
  // "name.label", aligned in one column.
  std::vector<std::pair<std::string, std::string>> rows;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "ok" || it.key() == "all_users") continue;
    if (it.value().is_number()) {
      std::string v = num(it.value());
      if (it.key() == "storage_ratio") {
        char b[64];
        std::snprintf(b, sizeof b, "%.4f (%.1f%% of captured bytes persisted)", it.value().get<double>(),
                      100.0 * it.value().get<double>());
        v = b;
      }
      rows.emplace_back(it.key(), v);
    } else if (it.value().is_object() && it.key() != "last_marked") {
      for (auto sub = it.value().begin(); sub != it.value().end(); ++sub)
        if (sub.value().is_number()) rows.emplace_back(it.key() + "." + sub.key(), num(sub.value()));
    }
  }
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  for (const auto& r : rows) std::printf("%-*s  %s\n", static_cast<int>(width), r.first.c_str(), r.second.c_str());

  const json& last = j.contains("last_marked") ? j["last_marked"] : json(nullptr);
  if (last.is_object()) {
    std::printf("\nlast marked event: pid %s, %s: \"%s\"\n", num(last.value("pid", json(0))).c_str(),
                last.value("pattern", json(nullptr)).is_string()
                    ? ("pattern '" + str(last["pattern"]) + "'").c_str()
                    : "level or client mark",
                str(last.value("excerpt", json(""))).c_str());
  }
  const auto& patterns = j.value("patterns", json::array());
  if (!patterns.empty()) {
    std::printf("\n%4s  %10s  %s\n", "id", "hits", "pattern");
    for (const auto& p : patterns) {
      std::printf("%4s  %10s  %s", num(p.value("id", json(0))).c_str(), num(p.value("hits", json(0))).c_str(),
                  str(p.value("text", json(""))).c_str());
      const std::string last_match = last_text(p.value("last", json(nullptr)));
      if (!last_match.empty()) std::printf("  (%s)", last_match.c_str());
      std::printf("\n");
    }
  }
  const auto& clients = j.value("clients", json::array());
  if (!clients.empty()) {
    std::printf("\n%8s  %-16s  %12s  %10s  %9s  %8s  %s\n", "pid", "process", "captured", "lost", "persisted",
                "marked", "file");
    for (const auto& c : clients) {
      const std::uint64_t lost = lost_events(c);
      std::printf("%8s  %-16.16s  %12s  %10llu  %9s  %8s  %s\n", num(c.value("pid", json(0))).c_str(),
                  str(c.value("process_name", json(""))).c_str(), num(c.value("events_captured", json(0))).c_str(),
                  static_cast<unsigned long long>(lost), num(c.value("windows_persisted", json(0))).c_str(),
                  num(c.value("events_marked", json(0))).c_str(), str(c.value("file", json(""))).c_str());
    }
  }
  if (!j.value("all_users", true)) std::printf("(clients: only your own processes are shown)\n");
}

void print_policy(const json& pol) {
  for (const char* key : {"marking", "engine", "trigger_level", "field", "ignore_case", "pre_roll", "post_roll",
                          "flush_after_s", "on_crash"})
    if (pol.contains(key)) std::printf("%-14s %s\n", key, str(pol[key]).c_str());
  const auto& patterns = pol.value("patterns", json::array());
  std::printf("\n%d pattern(s)\n", static_cast<int>(patterns.size()));
  if (!patterns.empty()) {
    std::size_t text_w = 4;
    for (const auto& p : patterns) text_w = std::max(text_w, str(p.value("text", json(""))).size() + 2);
    text_w = std::min<std::size_t>(text_w, 40);
    std::printf("%4s  %-7s  %-*s  %10s  %s\n", "id", "kind", static_cast<int>(text_w), "text", "hits", "notes");
    for (const auto& p : patterns) {
      std::string notes;
      if (p.contains("fallback"))
        notes += "invalid regex, matched as literal text (" + str(p["fallback"]) + ")";
      if (p.contains("min_count"))
        notes += (notes.empty() ? "" : "; ") + std::string("marks at ") + num(p["min_count"]) + " matches within " +
                 num(p.value("within_s", json(0.0))) + " s";
      const std::string last = last_text(p.value("last", json(nullptr)));
      if (!last.empty()) notes += (notes.empty() ? "" : "; ") + last;
      const std::string text = "'" + str(p.value("text", json(""))) + "'";
      std::printf("%4s  %-7s  %-*s  %10s  %s\n", num(p.value("id", json(0))).c_str(),
                  str(p.value("kind", json(""))).c_str(), static_cast<int>(text_w), text.c_str(),
                  num(p.value("hits", json(0))).c_str(), notes.c_str());
    }
  }
  const auto& warnings = pol.value("warnings", json::array());
  for (const auto& w : warnings) std::printf("warning: %s\n", str(w).c_str());
}

void print_clients(const json& j) {
  const auto& list = j.value("clients", json::array());
  std::printf("%8s  %8s  %8s  %-16s  %12s  %9s  %s\n", "pid", "uid", "session", "process", "captured", "persisted",
              "file");
  for (const auto& c : list)
    std::printf("%8s  %8s  %8s  %-16.16s  %12s  %9s  %s\n", num(c.value("pid", json(0))).c_str(),
                num(c.value("uid", json(0))).c_str(), num(c.value("session", json(0))).c_str(),
                str(c.value("process_name", json(""))).c_str(), num(c.value("events_captured", json(0))).c_str(),
                num(c.value("windows_persisted", json(0))).c_str(), str(c.value("file", json(""))).c_str());
  if (!j.value("all_users", true)) std::printf("(only your own processes are shown)\n");
}

}  // namespace preroll::ctl
