// ATF v1 record payloads: encoders used by the writer, decoders used by the
// reader. Decoders take bytes whose checksum already matched, but still
// trust no count or length in them: a writer bug must not crash a reader.
// Each decoder returns false and says why in `why` when the payload is not
// a valid v1 payload. Layouts are in docs/atf.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format.hpp"
#include "preroll/atf/reader.hpp"
#include "preroll/atf/types.hpp"

namespace preroll::atf::format {

using Bytes = std::span<const std::uint8_t>;

// FILE_HEADER: one UTF-8 JSON object, one key per FileHeader field. Unknown
// keys are ignored and missing keys keep their default, so later versions
// may add fields freely.
void append_header_payload(std::vector<std::uint8_t>& buf, const FileHeader& header);
[[nodiscard]] bool decode_header_payload(Bytes payload, FileHeader& out, std::string& why);

// WINDOW: 80 fixed bytes then 8 bytes per pattern hit.
inline constexpr std::size_t kWindowFixedSize = 80;
inline constexpr std::size_t kPatternHitSize = 8;
inline constexpr std::size_t kMaxPatternHits = (kMaxPayload - kWindowFixedSize) / kPatternHitSize;
void append_window_payload(std::vector<std::uint8_t>& buf, const WindowMeta& meta);
[[nodiscard]] bool decode_window_payload(Bytes payload, WindowMeta& out, std::string& why);

// EVENTS: a 16-byte batch header then `count` packed events, each 16 fixed
// bytes followed by its name and message bytes.
inline constexpr std::size_t kEventsBatchHeaderSize = 16;
inline constexpr std::size_t kEventFixedSize = 16;
inline constexpr std::size_t kMaxNameSize = 255;
inline constexpr std::size_t kMaxMessageSize = 65535;
// The writer starts a new EVENTS record before a batch would pass this size,
// so one huge window never needs one huge record (nor a huge reader buffer).
inline constexpr std::size_t kEventsSplitSize = 4u << 20;

struct EventsBatch {
  std::uint64_t window_id = 0;   // must equal the open window's id
  std::uint32_t first_event = 0; // index in the window of the batch's first event
  std::uint32_t count = 0;       // at least 1
};

[[nodiscard]] inline std::size_t encoded_event_size(const EventView& e) noexcept {
  return kEventFixedSize + e.name.size() + e.message.size();
}
void append_events_batch_header(std::vector<std::uint8_t>& buf, const EventsBatch& batch);
// The caller has checked the name and message limits.
void append_event(std::vector<std::uint8_t>& buf, const EventView& event);
// Appends the batch's events to `out`; on failure `out` may hold some of them.
[[nodiscard]] bool decode_events_payload(Bytes payload, EventsBatch& batch, std::vector<StoredEvent>& out,
                                         std::string& why);

// END: what the writer wrote, so a reader can tell the file is whole.
inline constexpr std::size_t kEndSize = 24;
struct EndCounters {
  std::uint64_t windows = 0;
  std::uint64_t events = 0;
  std::uint64_t end_offset = 0;  // offset of the END record itself
};
void append_end_payload(std::vector<std::uint8_t>& buf, const EndCounters& counters);
[[nodiscard]] bool decode_end_payload(Bytes payload, EndCounters& out, std::string& why);

}  // namespace preroll::atf::format
