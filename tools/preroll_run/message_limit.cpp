#include "message_limit.hpp"

#include <cstdlib>

namespace preroll::run {

namespace {

// The ABI's numbers (shm_protocol/include/preroll/shm/abi.hpp and
// event_record.hpp): a record is a 16-byte header, the name (at most 255
// bytes) and the message (at most 65535), padded to 8 bytes, and one with
// the longest name and message must fit a ring four times; rings are 4 KiB
// to 64 MiB in whole pages (64 KiB by default); 1..4096 lanes of 2..64 rings.
constexpr std::uint64_t kMaxNameLen = 255;
constexpr std::uint64_t kMaxMessageLen = 65535;
constexpr std::uint64_t kDefaultRingSize = 64 * 1024;

constexpr std::uint64_t record_size(std::uint64_t name, std::uint64_t message) noexcept {
  return (16 + name + message + 7) & ~std::uint64_t{7};
}

// The library's env_u32: unset or empty keeps the default; not a number
// keeps it too (with a message from the library).
std::uint64_t value_or(const char* v, std::uint64_t fallback) noexcept {
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 10);
  if (*end != '\0' || x > 0xFFFFFFFFull) return fallback;
  return x;
}

}  // namespace

std::uint32_t library_message_limit(const GeometryEnv& env) noexcept {
  const std::uint64_t ring = value_or(env.ring_size, kDefaultRingSize);
  const std::uint64_t lanes = value_or(env.lanes, 64);
  const std::uint64_t rings = value_or(env.rings_per_lane, 8);
  std::uint64_t message = value_or(env.max_message, kDefaultMaxMessage);
  if (env.max_message == nullptr) {
    // With no explicit limit a small ring gets the largest that fits.
    const std::uint64_t quarter = ring / 4;
    const std::uint64_t overhead = 16 + kMaxNameLen + 8;
    if (quarter > overhead && record_size(kMaxNameLen, message) > quarter) message = quarter - overhead;
  }
  const bool valid = lanes >= 1 && lanes <= 4096 && rings >= 2 && rings <= 64 && ring >= 4096 &&
                     ring <= (64u << 20) && ring % 4096 == 0 && message <= kMaxMessageLen &&
                     record_size(kMaxNameLen, message) * 4 <= ring;
  if (!valid) return kDefaultMaxMessage;  // the library ignores the variables
  return message == 0 ? 1 : static_cast<std::uint32_t>(message);
}

std::uint32_t library_message_limit() {
  return library_message_limit(GeometryEnv{std::getenv("PREROLL_MAX_MESSAGE"), std::getenv("PREROLL_RING_SIZE"),
                                           std::getenv("PREROLL_LANES"), std::getenv("PREROLL_RINGS_PER_LANE")});
}

}  // namespace preroll::run
