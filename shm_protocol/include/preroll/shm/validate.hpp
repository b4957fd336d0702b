// The daemon's side of the ABI: turning hostile segment bytes into values it
// may use. Nothing here trusts the segment. A header is copied once and
// checked; ring contents are parsed with every length bounds-checked against
// the ring, and the first impossible record stops the parse with its offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/event_record.hpp"
#include "preroll/shm/segment_layout.hpp"

namespace preroll::shm {

// The write-once part of SegmentHeader, copied out of shared memory.
struct HeaderSnapshot {
  Layout layout;
  std::uint32_t pid_untrusted = 0;  // informational only
  std::uint32_t uid_untrusted = 0;
  std::uint64_t created_monotonic_ns = 0;
  std::uint64_t created_realtime_ns = 0;
  ClockSource clock_source = ClockSource::monotonic;
  std::uint64_t tsc_reference = 0;
  std::uint64_t tsc_reference_ns = 0;
  std::uint64_t tsc_ns_mult = 0;
  std::uint32_t tsc_ns_shift = 0;
  std::string process_name;  // printable ASCII only; other bytes replaced by '?'

  // Converts a record timestamp to CLOCK_MONOTONIC ns.
  [[nodiscard]] std::uint64_t to_monotonic_ns(std::uint64_t raw) const noexcept;
};

// Copies and checks the header of a segment of `mapped_size` bytes. On
// success the layout is the one recomputed from the geometry (the header's
// offsets must equal it). Returns the reason otherwise.
[[nodiscard]] std::variant<HeaderSnapshot, std::string> snapshot_header(const void* base,
                                                                         std::uint64_t mapped_size);

// One parsed record. The views point into the bytes given to parse_records.
struct RecordView {
  std::uint64_t timestamp_raw = 0;
  std::uint8_t level = 0;
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::string_view name;
  std::string_view message;
};

struct ParseResult {
  std::uint32_t records = 0;        // records accepted
  std::uint32_t bytes_accepted = 0; // offset just past the last accepted record
  bool ok = true;                   // false: stopped at a bad record
  std::string error;                // why, when !ok
};

// Parses the records in `bytes` (a ring's committed prefix), calling
// `on_record(const RecordView&)` for each valid one, in order. Stops at the
// first record that is impossible (length past the end, name/message longer
// than allowed, unknown level). `bytes` must stay unchanged during the call
// for the views to be meaningful; memory safety does not depend on it since
// every length is read once and checked.
template <typename OnRecord>
ParseResult parse_records(std::span<const unsigned char> bytes, std::uint32_t max_message_size, OnRecord&& on_record);

// Reads a ring's `committed` from shared memory and clamps it: returns
// nullopt if it is beyond the ring size or not record-aligned.
[[nodiscard]] std::optional<std::uint32_t> checked_committed(std::uint32_t committed_untrusted,
                                                             std::uint32_t ring_size) noexcept;

// Where a ring's records are, oldest first: [older_begin, older_end) then
// [0, newer_end) (abi.hpp, RingHeader). Not wrapped: the older part is empty.
struct RingExtent {
  std::uint32_t older_begin = 0;
  std::uint32_t older_end = 0;
  std::uint32_t newer_end = 0;
  [[nodiscard]] std::uint32_t bytes() const noexcept { return older_end - older_begin + newer_end; }
};

// Checks start / wrap_end / committed read from a ring header: nullopt for
// any combination a well-behaved writer cannot produce.
[[nodiscard]] std::optional<RingExtent> checked_extent(std::uint32_t start_untrusted,
                                                       std::uint32_t wrap_end_untrusted,
                                                       std::uint32_t committed_untrusted,
                                                       std::uint32_t ring_size) noexcept;

// Parses both parts of a ring (older, then newer) at `ring` (ring_size bytes).
template <typename OnRecord>
ParseResult parse_ring(const unsigned char* ring, const RingExtent& extent, std::uint32_t max_message_size,
                       OnRecord&& on_record) {
  ParseResult older = parse_records({ring + extent.older_begin, extent.older_end - extent.older_begin},
                                    max_message_size, on_record);
  if (!older.ok) return older;
  ParseResult newer = parse_records({ring, extent.newer_end}, max_message_size, on_record);
  newer.records += older.records;
  return newer;
}

// ---------------------------------------------------------------------------

template <typename OnRecord>
ParseResult parse_records(std::span<const unsigned char> bytes, std::uint32_t max_message_size,
                          OnRecord&& on_record) {
  ParseResult r;
  std::size_t off = 0;
  const std::size_t end = bytes.size();
  while (off < end) {
    if (end - off < sizeof(EventRecordHeader)) {
      r.ok = false;
      r.error = "record header cut at offset " + std::to_string(off);
      break;
    }
    EventRecordHeader h;
    std::memcpy(&h, bytes.data() + off, sizeof h);  // read every length exactly once
    if (h.message_len > max_message_size) {
      r.ok = false;
      r.error = "message length " + std::to_string(h.message_len) + " above limit at offset " + std::to_string(off);
      break;
    }
    if (h.level > kMaxLevel) {
      r.ok = false;
      r.error = "level " + std::to_string(h.level) + " invalid at offset " + std::to_string(off);
      break;
    }
    const std::uint32_t size = record_size(h.name_len, h.message_len);
    if (size > end - off) {
      r.ok = false;
      r.error = "record of " + std::to_string(size) + " bytes overruns the ring at offset " + std::to_string(off);
      break;
    }
    RecordView v;
    v.timestamp_raw = h.timestamp;
    v.level = h.level;
    v.kind = h.kind;
    v.flags = static_cast<std::uint8_t>(h.flags & event_flag::known_mask);
    const char* p = reinterpret_cast<const char*>(bytes.data() + off + sizeof h);
    v.name = std::string_view(p, h.name_len);
    v.message = std::string_view(p + h.name_len, h.message_len);
    on_record(static_cast<const RecordView&>(v));
    off += size;
    ++r.records;
    r.bytes_accepted = static_cast<std::uint32_t>(off);
  }
  return r;
}

}  // namespace preroll::shm
