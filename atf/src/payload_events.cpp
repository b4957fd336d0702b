// EVENTS payload: a batch header, then events packed without padding.
#include "bytes.hpp"
#include "payloads.hpp"

namespace preroll::atf::format {

using detail::load_u16;
using detail::load_u32;
using detail::load_u64;

// Per-event byte offsets.
namespace event_at {
inline constexpr std::size_t timestamp_ns = 0;
inline constexpr std::size_t level = 8;
inline constexpr std::size_t kind = 9;
inline constexpr std::size_t flags = 10;
inline constexpr std::size_t name_len = 11;
inline constexpr std::size_t message_len = 12;
inline constexpr std::size_t pattern = 14;
inline constexpr std::size_t name = 16;
static_assert(name == kEventFixedSize);
}  // namespace event_at

void append_events_batch_header(std::vector<std::uint8_t>& buf, const EventsBatch& batch) {
  std::uint8_t* p = detail::extend(buf, kEventsBatchHeaderSize);
  detail::store_u64(p, batch.window_id);
  detail::store_u32(p + 8, batch.first_event);
  detail::store_u32(p + 12, batch.count);
}

void append_event(std::vector<std::uint8_t>& buf, const EventView& e) {
  std::uint8_t* p = detail::extend(buf, encoded_event_size(e));
  detail::store_u64(p + event_at::timestamp_ns, e.timestamp_ns);
  p[event_at::level] = e.level;
  p[event_at::kind] = e.kind;
  p[event_at::flags] = e.flags;
  p[event_at::name_len] = static_cast<std::uint8_t>(e.name.size());
  detail::store_u16(p + event_at::message_len, static_cast<std::uint16_t>(e.message.size()));
  detail::store_u16(p + event_at::pattern, e.pattern);
  std::uint8_t* text = p + event_at::name;
  for (const char c : e.name) *text++ = static_cast<std::uint8_t>(c);
  for (const char c : e.message) *text++ = static_cast<std::uint8_t>(c);
}

bool decode_events_payload(Bytes payload, EventsBatch& batch, std::vector<StoredEvent>& out, std::string& why) {
  if (payload.size() < kEventsBatchHeaderSize) {
    why = "events record of " + std::to_string(payload.size()) + " bytes has no batch header";
    return false;
  }
  batch.window_id = load_u64(payload.data());
  batch.first_event = load_u32(payload.data() + 8);
  batch.count = load_u32(payload.data() + 12);
  // Every event takes at least kEventFixedSize bytes: checking the count
  // against that bounds the reserve() below by the payload size.
  const std::size_t body = payload.size() - kEventsBatchHeaderSize;
  if (batch.count == 0 || batch.count > body / kEventFixedSize) {
    why = "events record claims " + std::to_string(batch.count) + " events in " + std::to_string(body) + " bytes";
    return false;
  }
  out.reserve(out.size() + batch.count);
  const auto as_chars = [](const std::uint8_t* p) { return reinterpret_cast<const char*>(p); };
  std::size_t pos = kEventsBatchHeaderSize;
  for (std::uint32_t i = 0; i < batch.count; ++i) {
    if (payload.size() - pos < kEventFixedSize) {
      why = "events record ends inside event " + std::to_string(i);
      return false;
    }
    const std::uint8_t* p = payload.data() + pos;
    const std::size_t name_len = p[event_at::name_len];
    const std::size_t message_len = load_u16(p + event_at::message_len);
    if (payload.size() - pos - kEventFixedSize < name_len + message_len) {
      why = "event " + std::to_string(i) + " text runs past the end of its record";
      return false;
    }
    StoredEvent& e = out.emplace_back();
    e.timestamp_ns = load_u64(p + event_at::timestamp_ns);
    e.level = p[event_at::level];
    e.kind = p[event_at::kind];
    e.flags = p[event_at::flags];
    e.pattern = load_u16(p + event_at::pattern);
    e.name.assign(as_chars(p + event_at::name), name_len);
    e.message.assign(as_chars(p + event_at::name + name_len), message_len);
    pos += kEventFixedSize + name_len + message_len;
  }
  if (pos != payload.size()) {
    why = std::to_string(payload.size() - pos) + " stray bytes after the last event";
    return false;
  }
  return true;
}

}  // namespace preroll::atf::format
