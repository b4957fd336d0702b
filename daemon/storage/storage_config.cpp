#include "storage/storage_config.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace preroll::daemon {

std::string_view to_string(FsyncPolicy p) noexcept {
  switch (p) {
    case FsyncPolicy::window: return "window";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "unknown";
}

std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) noexcept {
  if (text == "window") return FsyncPolicy::window;
  if (text == "interval") return FsyncPolicy::interval;
  if (text == "never") return FsyncPolicy::never;
  return std::nullopt;
}

std::optional<std::uint64_t> parse_size(std::string_view text) noexcept {
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (value > (1ull << 62) / 10) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(text[i++] - '0');
  }
  if (i == 0) return std::nullopt;
  std::string_view unit = text.substr(i);
  if (unit.size() == 3 && unit.substr(1) == "iB") unit = unit.substr(0, 1);
  if (unit.size() == 2 && unit[1] == 'B') unit = unit.substr(0, 1);
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "K" || unit == "k") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (unit == "T") shift = 40;
  else return std::nullopt;
  if (value > ((1ull << 62) >> shift)) return std::nullopt;
  return value << shift;
}

std::string format_size(std::uint64_t bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char text[32];
  if (u == 0) std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  return text;
}

std::uint64_t resolve_disk_quota(const StorageConfig& cfg, const std::string& output_dir) {
  if (cfg.max_disk_usage) return *cfg.max_disk_usage;
  struct statvfs fs {};
  if (::statvfs(output_dir.c_str(), &fs) != 0) return 4ull << 30;
  const std::uint64_t size = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
  return std::clamp<std::uint64_t>(size / 10, 1ull << 20, 4ull << 30);
}

}  // namespace preroll::daemon
