// ATF record framing for the fuzz tools, written from docs/atf.md on its own
// (not the library's encoder): the corpus generator builds hand-made records
// with it, and the fuzzer re-seals the checksums of a mutated input so the
// mutations reach the payload decoders instead of all stopping at the
// checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>
#include <xxhash.h>

namespace atf_fuzz {

inline constexpr std::size_t kPreambleSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 16;
inline constexpr std::uint32_t kMaxPayload = 64u << 20;

inline constexpr std::uint16_t kTypeFileHeader = 1;
inline constexpr std::uint16_t kTypeWindow = 2;
inline constexpr std::uint16_t kTypeEvents = 3;
inline constexpr std::uint16_t kTypeEnd = 4;
inline constexpr std::uint16_t kFlagCompressedZstd = 0x0001;
inline constexpr std::uint16_t kFlagSkippable = 0x0002;

inline std::uint64_t load_le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline void store_le(std::uint8_t* p, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

inline void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

[[nodiscard]] inline std::uint64_t padded(std::uint64_t length) { return (length + 7) & ~std::uint64_t{7}; }

// XXH3_64bits_withSeed(payload, length, type | flags << 16 | length << 32).
[[nodiscard]] inline std::uint64_t record_checksum(std::uint16_t type, std::uint16_t flags, const std::uint8_t* payload,
                                                   std::uint32_t length) {
  const std::uint64_t seed = std::uint64_t{type} | std::uint64_t{flags} << 16 | std::uint64_t{length} << 32;
  return XXH3_64bits_withSeed(payload, length, seed);
}

// One whole record: header, payload, zero padding.
[[nodiscard]] inline std::vector<std::uint8_t> encode_record(std::uint16_t type, std::uint16_t flags,
                                                             const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  const auto length = static_cast<std::uint32_t>(payload.size());
  put_le(out, type, 2);
  put_le(out, flags, 2);
  put_le(out, length, 4);
  put_le(out, record_checksum(type, flags, payload.data(), length), 8);
  out.insert(out.end(), payload.begin(), payload.end());
  out.resize(kRecordHeaderSize + padded(length), 0);
  return out;
}

// Walks the records after the preamble for as long as each is whole and
// within the length limit, and calls f(offset, type, flags, length) for each.
// Returns the offset where the walk stopped.
template <typename F>
std::size_t for_each_record(const std::uint8_t* data, std::size_t size, F&& f) {
  std::size_t at = kPreambleSize;
  while (size >= kRecordHeaderSize && at <= size - kRecordHeaderSize) {
    const auto type = static_cast<std::uint16_t>(load_le(data + at, 2));
    const auto flags = static_cast<std::uint16_t>(load_le(data + at + 2, 2));
    const auto length = static_cast<std::uint32_t>(load_le(data + at + 4, 4));
    const std::uint64_t body = padded(length);
    if (length > kMaxPayload || body > size - at - kRecordHeaderSize) break;
    f(at, type, flags, length);
    at += kRecordHeaderSize + body;
  }
  return at;
}

// Rewrites the checksum of every whole record in place; true when any changed.
inline bool reseal_checksums(std::uint8_t* data, std::size_t size) {
  bool changed = false;
  for_each_record(data, size, [&](std::size_t at, std::uint16_t type, std::uint16_t flags, std::uint32_t length) {
    const std::uint64_t sum = record_checksum(type, flags, data + at + kRecordHeaderSize, length);
    if (load_le(data + at + 8, 8) != sum) {
      store_le(data + at + 8, sum, 8);
      changed = true;
    }
  });
  return changed;
}

}  // namespace atf_fuzz
