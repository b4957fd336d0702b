// WINDOW and END payloads: fixed little-endian layouts (docs/atf.md).
#include "bytes.hpp"
#include "payloads.hpp"

namespace preroll::atf::format {

using detail::load_u32;
using detail::load_u64;
using detail::store_u32;
using detail::store_u64;

// WINDOW byte offsets. 25..27 are reserved: written 0, ignored by v1 readers.
namespace window_at {
inline constexpr std::size_t window_id = 0;
inline constexpr std::size_t lane = 8;
inline constexpr std::size_t tid = 12;
inline constexpr std::size_t ring_sequence = 16;
inline constexpr std::size_t reason = 24;
inline constexpr std::size_t pattern_count = 28;
inline constexpr std::size_t start_ns = 32;
inline constexpr std::size_t end_ns = 40;
inline constexpr std::size_t first_marked_ns = 48;
inline constexpr std::size_t event_count = 56;
inline constexpr std::size_t marked_count = 60;
inline constexpr std::size_t lost_events_before = 64;
inline constexpr std::size_t lost_bytes_before = 72;
inline constexpr std::size_t hits = 80;
static_assert(hits == kWindowFixedSize);
}  // namespace window_at

void append_window_payload(std::vector<std::uint8_t>& buf, const WindowMeta& m) {
  std::uint8_t* p = detail::extend(buf, kWindowFixedSize + kPatternHitSize * m.patterns.size());
  store_u64(p + window_at::window_id, m.window_id);
  store_u32(p + window_at::lane, m.lane);
  store_u32(p + window_at::tid, m.tid);
  store_u64(p + window_at::ring_sequence, m.ring_sequence);
  p[window_at::reason] = static_cast<std::uint8_t>(m.reason);
  store_u32(p + window_at::pattern_count, static_cast<std::uint32_t>(m.patterns.size()));
  store_u64(p + window_at::start_ns, m.start_ns);
  store_u64(p + window_at::end_ns, m.end_ns);
  store_u64(p + window_at::first_marked_ns, m.first_marked_ns);
  store_u32(p + window_at::event_count, m.event_count);
  store_u32(p + window_at::marked_count, m.marked_count);
  store_u64(p + window_at::lost_events_before, m.lost_events_before);
  store_u64(p + window_at::lost_bytes_before, m.lost_bytes_before);
  std::uint8_t* hit = p + window_at::hits;
  for (const PatternHit& h : m.patterns) {
    store_u32(hit, h.pattern_id);
    store_u32(hit + 4, h.count);
    hit += kPatternHitSize;
  }
}

bool decode_window_payload(Bytes payload, WindowMeta& out, std::string& why) {
  if (payload.size() < kWindowFixedSize) {
    why = "window record of " + std::to_string(payload.size()) + " bytes, expected at least " +
          std::to_string(kWindowFixedSize);
    return false;
  }
  const std::uint8_t* p = payload.data();
  const std::uint64_t hits = load_u32(p + window_at::pattern_count);
  if (payload.size() != kWindowFixedSize + kPatternHitSize * hits) {
    why = "window record of " + std::to_string(payload.size()) + " bytes cannot hold its " + std::to_string(hits) +
          " pattern hits";
    return false;
  }
  if (p[window_at::reason] == 0) {
    why = "window keep reason 0";
    return false;
  }
  WindowMeta m;
  m.window_id = load_u64(p + window_at::window_id);
  m.lane = load_u32(p + window_at::lane);
  m.tid = load_u32(p + window_at::tid);
  m.ring_sequence = load_u64(p + window_at::ring_sequence);
  // Reasons unknown to this build are kept as is (to_string says "unknown").
  m.reason = static_cast<KeepReason>(p[window_at::reason]);
  m.start_ns = load_u64(p + window_at::start_ns);
  m.end_ns = load_u64(p + window_at::end_ns);
  m.first_marked_ns = load_u64(p + window_at::first_marked_ns);
  m.event_count = load_u32(p + window_at::event_count);
  m.marked_count = load_u32(p + window_at::marked_count);
  m.lost_events_before = load_u64(p + window_at::lost_events_before);
  m.lost_bytes_before = load_u64(p + window_at::lost_bytes_before);
  m.patterns.resize(hits);
  const std::uint8_t* hit = p + window_at::hits;
  for (PatternHit& h : m.patterns) {
    h.pattern_id = load_u32(hit);
    h.count = load_u32(hit + 4);
    hit += kPatternHitSize;
  }
  out = std::move(m);
  return true;
}

void append_end_payload(std::vector<std::uint8_t>& buf, const EndCounters& c) {
  std::uint8_t* p = detail::extend(buf, kEndSize);
  store_u64(p, c.windows);
  store_u64(p + 8, c.events);
  store_u64(p + 16, c.end_offset);
}

bool decode_end_payload(Bytes payload, EndCounters& out, std::string& why) {
  if (payload.size() != kEndSize) {
    why = "end record of " + std::to_string(payload.size()) + " bytes, expected " + std::to_string(kEndSize);
    return false;
  }
  out.windows = load_u64(payload.data());
  out.events = load_u64(payload.data() + 8);
  out.end_offset = load_u64(payload.data() + 16);
  return true;
}

}  // namespace preroll::atf::format
