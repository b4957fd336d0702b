// ATF v1 framing: the preamble and the record envelope.
//
// The normative description is docs/atf.md; this header is its code. Layout:
//
//   file     := preamble record*
//   preamble := magic[8] "PRLATF\r\n" | u32 version (1) | u32 reserved (0)
//   record   := header[16] payload[length] zero-padding to a multiple of 8
//   header   := u16 type | u16 flags | u32 length | u64 checksum
//
//   checksum = XXH3_64bits_withSeed(payload, length,
//                                   type | flags << 16 | length << 32)
//
// Seeding with the other header fields means a damaged type, flags or length
// shows up as a checksum mismatch, not as a plausible record of another kind.
// Padding is not checksummed; readers require it to be zero instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace preroll::atf::format {

inline constexpr std::array<std::uint8_t, 8> kMagic = {'P', 'R', 'L', 'A', 'T', 'F', '\r', '\n'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kPreambleSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 16;
inline constexpr std::size_t kRecordAlign = 8;

// Hard limit on a record's payload. A reader checks a length against it (and
// against the bytes left in the file) before allocating anything.
inline constexpr std::uint32_t kMaxPayload = 64u << 20;

// Values are part of the format and never renumbered. 0 is never a valid
// type, so a zero-filled tail (a crash on some file systems) is rejected at
// once.
enum class RecordType : std::uint16_t {
  file_header = 1,  // JSON object, first record of every file
  window = 2,       // WindowMeta, binary
  events = 3,       // a batch of one window's events, binary
  end = 4,          // clean close, with counters
};

[[nodiscard]] bool is_known_type(std::uint16_t type) noexcept;

namespace record_flags {
// Payload is one zstd frame (with its content size) of the real payload.
// Only EVENTS records may carry it; the checksum covers the stored frame.
inline constexpr std::uint16_t compressed_zstd = 0x0001;
// A reader that does not know the record's type may skip it. Lets a later
// minor addition add record types old readers can ignore.
inline constexpr std::uint16_t skippable = 0x0002;
inline constexpr std::uint16_t known_mask = compressed_zstd | skippable;
}  // namespace record_flags

struct RecordHeader {
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint32_t length = 0;  // payload bytes, padding excluded
  std::uint64_t checksum = 0;
};

[[nodiscard]] RecordHeader decode_record_header(const std::uint8_t* p) noexcept;

[[nodiscard]] constexpr std::uint64_t padded_size(std::uint64_t length) noexcept {
  return (length + kRecordAlign - 1) & ~static_cast<std::uint64_t>(kRecordAlign - 1);
}

[[nodiscard]] std::uint64_t record_checksum(std::uint16_t type, std::uint16_t flags,
                                            std::span<const std::uint8_t> payload) noexcept;

void append_preamble(std::vector<std::uint8_t>& buf);

// Empty when `bytes` (kPreambleSize of them) is an ATF v1 preamble, else why not.
[[nodiscard]] std::string check_preamble(std::span<const std::uint8_t> bytes);

// Record building, in place at the end of `buf`: begin_record() appends a
// header whose length and checksum are still blank, the caller appends the
// payload, finish_record() fills the header in and pads. It returns false,
// leaving the record unfinished, when the payload exceeds kMaxPayload.
[[nodiscard]] std::size_t begin_record(std::vector<std::uint8_t>& buf, RecordType type,
                                       std::uint16_t flags = 0);
[[nodiscard]] bool finish_record(std::vector<std::uint8_t>& buf, std::size_t record_start);

}  // namespace preroll::atf::format
