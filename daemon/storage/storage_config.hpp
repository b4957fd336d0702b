// How prerolld stores windows: compression, durability, rotation and quota.
// Parsed with the rest of the configuration (config.cpp); the policies are
// explained in docs/user-guide.md ("Storage").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "preroll/atf/writer.hpp"

namespace preroll::daemon {

enum class FsyncPolicy : std::uint8_t {
  window,    // fdatasync after every window: nothing written is lost to a power cut
  interval,  // fdatasync each file with new data every fsync_interval_ns
  never,     // leave it to the kernel's writeback
};

struct StorageConfig {
  atf::Compression compression = atf::Compression::zstd;
  int zstd_level = 1;  // measured: level 3 is slower for no smaller files (bench/RESULTS.md)
  FsyncPolicy fsync = FsyncPolicy::interval;
  std::uint64_t fsync_interval_ns = 1'000'000'000;
  // A client's file is closed and a numbered successor started before a
  // window would take it past this size. 0: never rotate.
  std::uint64_t max_file_size = 64ull << 20;
  // Bytes of *.atf files the output directory may hold; the oldest closed
  // files are deleted to stay under it. 0: no limit. Unset in the options
  // ("auto"): 10% of the output file system, at most 4 GiB (see
  // resolve_disk_quota).
  std::optional<std::uint64_t> max_disk_usage;
};

std::string_view to_string(FsyncPolicy p) noexcept;
std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) noexcept;

// "4096", "64K", "64KiB", "512M", "2G", "1T" (binary multiples), "0".
// nullopt when malformed or above 2^62.
std::optional<std::uint64_t> parse_size(std::string_view text) noexcept;
// 1536 -> "1.5 KiB"; for messages.
std::string format_size(std::uint64_t bytes);

// The quota in force for `output_dir`: the configured one, or for "auto"
// 10% of the file system's size capped at 4 GiB (journald's rule).
std::uint64_t resolve_disk_quota(const StorageConfig& cfg, const std::string& output_dir);

}  // namespace preroll::daemon
