#include "format.hpp"

#include <algorithm>
#include <xxhash.h>

#include "bytes.hpp"

namespace preroll::atf::format {

using detail::load_u16;
using detail::load_u32;
using detail::load_u64;

bool is_known_type(std::uint16_t type) noexcept {
  // One comparison: types below file_header wrap around to large values.
  constexpr auto first = static_cast<std::uint16_t>(RecordType::file_header);
  constexpr auto last = static_cast<std::uint16_t>(RecordType::end);
  return static_cast<std::uint16_t>(type - first) <= last - first;
}

RecordHeader decode_record_header(const std::uint8_t* p) noexcept {
  return RecordHeader{load_u16(p), load_u16(p + 2), load_u32(p + 4), load_u64(p + 8)};
}

std::uint64_t record_checksum(std::uint16_t type, std::uint16_t flags,
                              std::span<const std::uint8_t> payload) noexcept {
  const std::uint64_t seed = static_cast<std::uint64_t>(type) |
                             static_cast<std::uint64_t>(flags) << 16 |
                             static_cast<std::uint64_t>(payload.size()) << 32;
  return XXH3_64bits_withSeed(payload.data(), payload.size(), seed);
}

void append_preamble(std::vector<std::uint8_t>& buf) {
  std::uint8_t* p = detail::extend(buf, kPreambleSize);
  std::copy(kMagic.begin(), kMagic.end(), p);
  detail::store_u32(p + 8, kVersion);
  detail::store_u32(p + 12, 0);
}

std::string check_preamble(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kPreambleSize) {
    return "too short for an ATF file (" + std::to_string(bytes.size()) + " bytes)";
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return "not an ATF file (bad magic)";
  }
  const std::uint32_t version = load_u32(bytes.data() + 8);
  if (version != kVersion) {
    return "unsupported ATF format version " + std::to_string(version) + " (this reader knows " +
           std::to_string(kVersion) + ")";
  }
  if (load_u32(bytes.data() + 12) != 0) {
    return "reserved preamble field is not zero";
  }
  return {};
}

std::size_t begin_record(std::vector<std::uint8_t>& buf, RecordType type, std::uint16_t flags) {
  const std::size_t start = buf.size();
  std::uint8_t* p = detail::extend(buf, kRecordHeaderSize);
  detail::store_u16(p, static_cast<std::uint16_t>(type));
  detail::store_u16(p + 2, flags);
  return start;
}

bool finish_record(std::vector<std::uint8_t>& buf, std::size_t record_start) {
  const std::size_t length = buf.size() - record_start - kRecordHeaderSize;
  if (length > kMaxPayload) {
    return false;
  }
  std::uint8_t* header = buf.data() + record_start;
  const std::uint16_t type = load_u16(header);
  const std::uint16_t flags = load_u16(header + 2);
  detail::store_u32(header + 4, static_cast<std::uint32_t>(length));
  detail::store_u64(header + 8, record_checksum(type, flags, {header + kRecordHeaderSize, length}));
  buf.resize(buf.size() + (padded_size(length) - length), 0);
  return true;
}

}  // namespace preroll::atf::format
