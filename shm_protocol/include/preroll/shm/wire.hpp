// Messages on the registration socket (AF_UNIX, SOCK_SEQPACKET), client ->
// daemon. SOCK_SEQPACKET keeps message boundaries, so a message is never
// split or merged and a doorbell (one non-blocking send) is all or nothing.
//
//   every message:  off 0 u32 magic (kWireMagic), 4 u16 type, 6 u16 size (whole message)
//   HELLO    (24 B + exactly one SCM_RIGHTS descriptor: the segment memfd)
//            8 u32 abi_version, 12 u32 pid (informational), 16 u64 segment_size
//   DOORBELL (16 B)  8 u32 lane (a hint: the daemon scans every lane), 12 u32 reserved
//   GOODBYE  (8 B)   the client detaches cleanly (client-exit, not crash)
//
// Integers are in host byte order (both ends are on one machine). The parser
// below is pure: it never touches a socket and is tested on raw bytes. Peer
// identity comes from SO_PEERCRED, never from these bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace preroll::shm::wire {

inline constexpr std::uint32_t kWireMagic = 0x4C525250;  // "PRRL"
inline constexpr std::size_t kMaxMessageSize = 256;       // receive buffer; larger is a protocol error

enum class Type : std::uint16_t { hello = 1, doorbell = 2, goodbye = 3 };

struct Hello {
  std::uint32_t abi_version = 0;
  std::uint32_t pid = 0;
  std::uint64_t segment_size = 0;
};
struct Doorbell {
  std::uint32_t lane = 0;
};
struct Goodbye {};
struct ParseError {
  std::string what;
};

using Message = std::variant<Hello, Doorbell, Goodbye, ParseError>;

inline constexpr std::size_t kHelloSize = 24;
inline constexpr std::size_t kDoorbellSize = 16;
inline constexpr std::size_t kGoodbyeSize = 8;

// Parses one received message. `fds_received` is how many descriptors came
// with it: a HELLO needs exactly one, every other message none.
[[nodiscard]] Message parse(std::span<const std::byte> bytes, int fds_received);

// Encoders used by the client (and by tests to build hostile variants).
void encode_hello(std::span<std::byte, kHelloSize> out, const Hello& h) noexcept;
void encode_doorbell(std::span<std::byte, kDoorbellSize> out, const Doorbell& d) noexcept;
void encode_goodbye(std::span<std::byte, kGoodbyeSize> out) noexcept;

}  // namespace preroll::shm::wire
