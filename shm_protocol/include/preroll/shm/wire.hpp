// Messages on the registration socket (AF_UNIX, SOCK_SEQPACKET). SOCK_SEQPACKET
// keeps message boundaries, so a message is never split or merged and a
// doorbell (one non-blocking send) is all or nothing.
//
//   every message:  off 0 u32 magic (kWireMagic), 4 u16 type, 6 u16 size (whole message)
// client -> daemon:
//   HELLO    (24 B + exactly one SCM_RIGHTS descriptor: the segment memfd)
//            8 u32 abi_version, 12 u32 pid (informational), 16 u64 segment_size
//   DOORBELL (16 B)  8 u32 lane (a hint: the daemon scans every lane), 12 u32 reserved
//   GOODBYE  (8 B)   the client detaches cleanly (client-exit, not crash)
// daemon -> client (the only one; the daemon closes the connection after it):
//   REFUSED  (16 B)  8 u32 reason (RefuseReason), 12 u32 detail (the limit, or
//            seconds): the daemon will not serve this connection. The client
//            reads it only once a send has failed, so it never waits for it.
//
// Integers are in host byte order (both ends are on one machine). The parser
// below is pure: it never touches a socket and is tested on raw bytes. Peer
// identity comes from SO_PEERCRED, never from these bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace preroll::shm::wire {

inline constexpr std::uint32_t kWireMagic = 0x4C525250;  // "PRRL"
inline constexpr std::size_t kMaxMessageSize = 256;       // receive buffer; larger is a protocol error

enum class Type : std::uint16_t { hello = 1, doorbell = 2, goodbye = 3, refused = 4 };

// Why the daemon closed a connection. A client treats every one like a
// daemon that went away: capture goes on, it reconnects later. Values a
// client does not know are refusals all the same.
enum class RefuseReason : std::uint32_t {
  max_clients = 1,           // --max-clients connections open; detail: the limit
  max_clients_per_user = 2,  // --max-clients-per-user of this uid open; detail: the limit
  hello_timeout = 3,         // no valid HELLO within --hello-timeout; detail: seconds
  segment_rejected = 4,      // the HELLO's segment was refused (seals, size, header)
  faulty = 5,                // the segment was found corrupt: detached; detail: seconds refused from now
  quarantined = 6,           // found corrupt recently: refused for a while; detail: seconds left
};

struct Hello {
  std::uint32_t abi_version = 0;
  std::uint32_t pid = 0;
  std::uint64_t segment_size = 0;
};
struct Doorbell {
  std::uint32_t lane = 0;
};
struct Goodbye {};
struct Refused {
  std::uint32_t reason = 0;  // RefuseReason, or a value from a newer daemon
  std::uint32_t detail = 0;
};
struct ParseError {
  std::string what;
};

using Message = std::variant<Hello, Doorbell, Goodbye, ParseError>;

inline constexpr std::size_t kHelloSize = 24;
inline constexpr std::size_t kDoorbellSize = 16;
inline constexpr std::size_t kGoodbyeSize = 8;
inline constexpr std::size_t kRefusedSize = 16;

// Parses one message a client sent. `fds_received` is how many descriptors
// came with it: a HELLO needs exactly one, every other message none. A
// REFUSED (the daemon's message) is a parse error here.
[[nodiscard]] Message parse(std::span<const std::byte> bytes, int fds_received);

// Parses the daemon's REFUSED; nullopt for anything else. Allocates nothing
// (the client library calls it).
[[nodiscard]] std::optional<Refused> parse_refused(std::span<const std::byte> bytes) noexcept;

// What a refusal means, for a log line ("too many client connections of this
// user (--max-clients-per-user 3)"), into `out`, NUL-terminated and cut to fit.
// Allocates nothing.
void describe(const Refused& r, std::span<char> out) noexcept;

// Encoders used by the client (and by tests to build hostile variants).
void encode_hello(std::span<std::byte, kHelloSize> out, const Hello& h) noexcept;
void encode_doorbell(std::span<std::byte, kDoorbellSize> out, const Doorbell& d) noexcept;
void encode_goodbye(std::span<std::byte, kGoodbyeSize> out) noexcept;
void encode_refused(std::span<std::byte, kRefusedSize> out, const Refused& r) noexcept;

}  // namespace preroll::shm::wire
