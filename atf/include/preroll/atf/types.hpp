// ATF (preroll trace file) — the in-memory model of what a file holds.
//
// These types are the contract between the writer (daemon), the reader
// (preroll-atf, tests) and the on-disk encoding in format.hpp. The byte layout
// is specified in docs/atf.md; this header only names the values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace preroll::atf {

// Why a window was written. Stored as one byte; values are part of the file
// format and never renumbered.
enum class KeepReason : std::uint8_t {
  marked = 1,           // the window holds a marked event
  pre_roll = 2,         // held back, written because a marked window followed
  post_roll = 3,        // follows a marked window within --post-roll
  flush_timeout = 4,    // committed part of a ring written by --flush-after
  client_exit = 5,      // client said goodbye; its remaining marked data
  client_crash = 6,     // connection lost without goodbye; salvaged
  manual_snapshot = 7,  // prerollctl snapshot
  capture_all = 8,      // --marking off: every window is kept
  daemon_shutdown = 9,  // committed part of an active ring written when prerolld stops
  process_context = 10, // --scope process: another thread's window around a marked one
};

// "marked", "pre-roll", ...; "unknown" for values this build does not know.
std::string_view to_string(KeepReason reason) noexcept;

// Event flags as stored in the file (same bit values as the shared-memory
// event record, see shm_protocol/include/preroll/shm/event_record.hpp).
namespace event_flags {
inline constexpr std::uint8_t client_marked = 0x01;  // the client marked it
inline constexpr std::uint8_t truncated = 0x02;      // message cut at the limit
inline constexpr std::uint8_t policy_marked = 0x04;  // the daemon's policy matched it
}  // namespace event_flags

// Identity of the traced process and of the capture, written once at the
// start of every file.
struct FileHeader {
  std::uint32_t format_version = 1;
  std::string preroll_version;     // e.g. "0.1.0"
  std::string host_name;
  std::string boot_id;             // /proc/sys/kernel/random/boot_id
  std::uint32_t pid = 0;
  std::uint32_t uid = 0;
  std::string process_name;
  std::string command_line;        // arguments joined by spaces
  std::uint64_t process_start_ns = 0;  // CLOCK_MONOTONIC of the client's first event / segment creation
  // One instant read on both clocks, so a reader can turn monotonic
  // timestamps into wall-clock time: wall = t - clock_monotonic_ns + clock_realtime_ns.
  std::int64_t clock_realtime_ns = 0;
  std::int64_t clock_monotonic_ns = 0;
  std::string policy_json;         // the marking policy in force, as JSON text (pattern ids index its "patterns" array)
  std::uint32_t file_sequence = 0; // 0 for the first file of a client, 1.. after rotation
};

struct PatternHit {
  std::uint32_t pattern_id = 0;  // index into the policy's pattern list
  std::uint32_t count = 0;       // events of the window it matched
  friend bool operator==(const PatternHit&, const PatternHit&) = default;
};

// Metadata of one persisted window. Written before the window's events.
struct WindowMeta {
  std::uint64_t window_id = 0;        // per file, 0, 1, 2, ... in write order
  std::uint32_t lane = 0;
  std::uint32_t tid = 0;              // Linux thread id of the lane's writer
  std::uint64_t ring_sequence = 0;    // per lane, counts ring activations
  KeepReason reason = KeepReason::marked;
  std::uint64_t start_ns = 0;         // CLOCK_MONOTONIC of the first event
  std::uint64_t end_ns = 0;           // CLOCK_MONOTONIC of the last event
  std::uint64_t first_marked_ns = 0;  // 0 when the window holds no marked event
  std::uint32_t event_count = 0;
  std::uint32_t marked_count = 0;
  std::uint64_t lost_events_before = 0;  // overwritten/dropped between the previous window of the lane and this one
  std::uint64_t lost_bytes_before = 0;
  std::vector<PatternHit> patterns;   // patterns that matched at least once, ascending id
  friend bool operator==(const WindowMeta&, const WindowMeta&) = default;
};

// One event. The views point into the buffer the event was read from or is
// written from; they are bytes (not necessarily UTF-8, may contain NUL).
struct EventView {
  std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC nanoseconds
  std::uint8_t level = 0;          // 0 trace .. 5 fatal
  std::uint8_t kind = 0;           // 0 log; others reserved
  std::uint8_t flags = 0;          // event_flags
  std::string_view name;           // at most 255 bytes
  std::string_view message;        // at most 65535 bytes
  // The trigger pattern that marked the event: 0 none, n = pattern id n - 1
  // (ids index the header's policy_json "patterns"). Saturates at 65535.
  std::uint16_t pattern = 0;
};

// Pattern field value for a pattern id (see EventView::pattern).
[[nodiscard]] constexpr std::uint16_t pattern_field(std::uint32_t pattern_id) noexcept {
  return pattern_id >= 65534u ? std::uint16_t{65535} : static_cast<std::uint16_t>(pattern_id + 1);
}

// "trace", "debug", "info", "warn", "error", "fatal"; "L<n>" otherwise.
std::string level_name(std::uint8_t level);

// The ATF format version this library writes and reads (docs/atf.md).
inline constexpr std::uint32_t current_format_version = 1;

// Wall-clock (CLOCK_REALTIME) nanoseconds since the epoch of a CLOCK_MONOTONIC
// timestamp, through the header's clock pair. Computed modulo 2^64, so absurd
// values from a damaged file give an absurd time, never undefined behaviour.
std::int64_t wall_clock_ns(const FileHeader& header, std::uint64_t monotonic_ns) noexcept;

}  // namespace preroll::atf
