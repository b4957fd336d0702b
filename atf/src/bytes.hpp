// Little-endian integers, one byte at a time.
//
// The file layout must not depend on the host's endianness, on struct
// padding or on alignment, so nothing is ever memcpy'd as a struct: every
// field is stored and loaded through these helpers at an explicit offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace preroll::atf::detail {

template <typename T>
inline void store_le(std::uint8_t* p, T value) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i));
  }
}

template <typename T>
[[nodiscard]] inline T load_le(const std::uint8_t* p) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  }
  return static_cast<T>(value);
}

inline void store_u16(std::uint8_t* p, std::uint16_t v) noexcept { store_le(p, v); }
inline void store_u32(std::uint8_t* p, std::uint32_t v) noexcept { store_le(p, v); }
inline void store_u64(std::uint8_t* p, std::uint64_t v) noexcept { store_le(p, v); }
[[nodiscard]] inline std::uint16_t load_u16(const std::uint8_t* p) noexcept { return load_le<std::uint16_t>(p); }
[[nodiscard]] inline std::uint32_t load_u32(const std::uint8_t* p) noexcept { return load_le<std::uint32_t>(p); }
[[nodiscard]] inline std::uint64_t load_u64(const std::uint8_t* p) noexcept { return load_le<std::uint64_t>(p); }

// Grows `buf` by `n` zeroed bytes and returns where they start. The pointer
// is valid until the next growth of `buf`.
inline std::uint8_t* extend(std::vector<std::uint8_t>& buf, std::size_t n) {
  const std::size_t old = buf.size();
  buf.resize(old + n);
  return buf.data() + old;
}

}  // namespace preroll::atf::detail
