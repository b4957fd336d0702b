// Processes whose segment was found corrupt (a faulty client), refused for a
// while when they connect again. Without it a broken or hostile process that
// reconnects in a loop would have its segment mapped, checked, found corrupt
// and reported over and over: work and log lines without end. The first
// fault costs 10 s, each one after it within an hour twice the last, up to
// 10 min. A process is known by its pid and its start time (/proc/PID/stat),
// so a new process that inherits the pid is not refused. io thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>

namespace preroll::daemon {

// The process's start time in clock ticks since boot (/proc/PID/stat field
// 22); nullopt when it cannot be read.
inline std::optional<std::uint64_t> process_start_ticks(std::uint32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: count fields
  // after its closing parenthesis, the last one on the line.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::size_t pos = close + 1;
  for (int field = 3; field <= 22; ++field) {
    const auto start = stat.find_first_not_of(' ', pos);
    if (start == std::string::npos) return std::nullopt;
    pos = stat.find(' ', start);
    if (field == 22) {
      try {
        return std::stoull(stat.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    if (pos == std::string::npos) return std::nullopt;
  }
  return std::nullopt;
}

class FaultQuarantine {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration first_cooldown = std::chrono::seconds(10);
  static constexpr Clock::duration max_cooldown = std::chrono::minutes(10);
  static constexpr Clock::duration memory = std::chrono::hours(1);  // a fault older than this is forgotten
  static constexpr std::size_t max_entries = 4096;                  // bounded whatever the pids

  // `pid` (started at `start`) was detached as faulty now; returns how long
  // it is refused.
  Clock::duration record(std::uint32_t pid, std::optional<std::uint64_t> start, Clock::time_point now) {
    auto it = entries_.find(pid);
    if (it != entries_.end() && (it->second.start != start || now - it->second.until > memory)) {
      entries_.erase(it);
      it = entries_.end();
    }
    if (it == entries_.end()) {
      make_room(now);
      it = entries_.emplace(pid, Entry{start, now, Clock::duration::zero()}).first;
    }
    Entry& e = it->second;
    e.cooldown = e.cooldown == Clock::duration::zero() ? first_cooldown : std::min(e.cooldown * 2, max_cooldown);
    e.until = now + e.cooldown;
    return e.cooldown;
  }

  // How long `pid` is still refused (zero: not at all). `start_of(pid)`
  // (process_start_ticks in the daemon) is called only for a pid on record.
  template <class StartOf>
  Clock::duration remaining(std::uint32_t pid, Clock::time_point now, StartOf start_of) {
    const auto it = entries_.find(pid);
    if (it == entries_.end() || now >= it->second.until) return Clock::duration::zero();
    if (start_of(pid) != it->second.start) {  // another process with a recycled pid
      entries_.erase(it);
      return Clock::duration::zero();
    }
    return it->second.until - now;
  }

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::optional<std::uint64_t> start;
    Clock::time_point until;
    Clock::duration cooldown;
  };

  // Forgets faults older than `memory`; when still full, the entry whose
  // refusal ends first.
  void make_room(Clock::time_point now) {
    if (entries_.size() < max_entries) return;
    for (auto it = entries_.begin(); it != entries_.end();)
      it = now - it->second.until > memory ? entries_.erase(it) : std::next(it);
    if (entries_.size() < max_entries) return;
    entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.until < b.second.until;
    }));
  }

  std::unordered_map<std::uint32_t, Entry> entries_;
};

}  // namespace preroll::daemon
