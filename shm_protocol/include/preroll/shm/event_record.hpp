// The event record: what a ring holds, back to back from the ring's start.
//
//   off  size  field
//   0    8     timestamp     CLOCK_MONOTONIC ns, or raw TSC (SegmentHeader::clock_source)
//   8    2     message_len   bytes of message, <= max_message_size
//   10   1     name_len      bytes of name, <= 255
//   11   1     level         0 trace .. 5 fatal (Level)
//   12   1     kind          0 log; other values reserved
//   13   1     flags         EventFlag bits
//   14   2     reserved      zero
//   16   ...   name bytes, then message bytes, then zero padding to a multiple of 8
//
// Records are 8-byte aligned (their size is rounded up), so the timestamp of
// every record is naturally aligned. Name and message are bytes: no encoding
// is assumed, NUL is allowed. A 32-byte message with an empty name takes 48
// bytes. This header is included by the client's hot path: keep it small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace preroll::shm {

enum class Level : std::uint8_t { trace = 0, debug = 1, info = 2, warn = 3, error = 4, fatal = 5 };
inline constexpr std::uint8_t kMaxLevel = 5;

namespace event_flag {
inline constexpr std::uint8_t client_marked = 0x01;  // preroll_mark(): always counts as marked
inline constexpr std::uint8_t truncated = 0x02;      // message cut at max_message_size
inline constexpr std::uint8_t known_mask = 0x03;     // bits a v1 client may set
}  // namespace event_flag

struct EventRecordHeader {
  std::uint64_t timestamp;
  std::uint16_t message_len;
  std::uint8_t name_len;
  std::uint8_t level;
  std::uint8_t kind;
  std::uint8_t flags;
  std::uint16_t reserved;
};

static_assert(std::is_standard_layout_v<EventRecordHeader>);
static_assert(std::is_trivially_copyable_v<EventRecordHeader>);
static_assert(sizeof(EventRecordHeader) == 16);
static_assert(offsetof(EventRecordHeader, timestamp) == 0);
static_assert(offsetof(EventRecordHeader, message_len) == 8);
static_assert(offsetof(EventRecordHeader, name_len) == 10);
static_assert(offsetof(EventRecordHeader, level) == 11);
static_assert(offsetof(EventRecordHeader, kind) == 12);
static_assert(offsetof(EventRecordHeader, flags) == 13);

inline constexpr std::uint32_t kRecordAlign = 8;
inline constexpr std::uint32_t kMaxNameLen = 255;
inline constexpr std::uint32_t kMaxMessageLen = 65535;

[[nodiscard]] constexpr std::uint32_t record_size(std::uint32_t name_len, std::uint32_t message_len) noexcept {
  return (static_cast<std::uint32_t>(sizeof(EventRecordHeader)) + name_len + message_len + kRecordAlign - 1) &
         ~(kRecordAlign - 1);
}
static_assert(record_size(0, 32) == 48);
static_assert(record_size(0, 0) == 16);
static_assert(record_size(kMaxNameLen, kMaxMessageLen) < (1u << 17));

// Writes one record at `dst` (8-byte aligned, record_size(...) bytes
// available). The caller has already clamped the lengths.
inline void write_record(unsigned char* dst, std::uint64_t timestamp, std::uint8_t level, std::uint8_t flags,
                         const char* name, std::uint8_t name_len, const char* message,
                         std::uint16_t message_len) noexcept {
  EventRecordHeader h;
  h.timestamp = timestamp;
  h.message_len = message_len;
  h.name_len = name_len;
  h.level = level;
  h.kind = 0;
  h.flags = flags;
  h.reserved = 0;
  std::memcpy(dst, &h, sizeof h);
  unsigned char* p = dst + sizeof h;
  if (name_len != 0) std::memcpy(p, name, name_len);
  p += name_len;
  if (message_len != 0) std::memcpy(p, message, message_len);
  p += message_len;
  // Zero the padding so rings never carry stale bytes of older records.
  const std::uint32_t used = static_cast<std::uint32_t>(sizeof h) + name_len + message_len;
  const std::uint32_t pad = record_size(name_len, message_len) - used;
  if (pad != 0) std::memset(p, 0, pad);
}

}  // namespace preroll::shm
