// libFuzzer target: preroll::shm::wire::parse, the registration socket's
// message parser (client -> daemon), on arbitrary bytes.
//
// The first input byte is the number of descriptors that "came with" the
// message (0..3); the rest is the message. Besides sanitizer findings, these
// promises of wire.hpp hold for every input, or the target traps:
//   - parse never throws;
//   - a HELLO is returned only for exactly kHelloSize bytes with one
//     descriptor, a DOORBELL for kDoorbellSize bytes and none, a GOODBYE for
//     kGoodbyeSize bytes and none, and only with the magic and a size field
//     equal to the byte count;
//   - a parsed message re-encodes to the same bytes (except a DOORBELL's
//     reserved word, which the encoder zeroes);
//   - a parse error carries a reason.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <variant>

#include "preroll/shm/wire.hpp"

namespace wire = preroll::shm::wire;

#define FUZZ_CHECK(cond)                                                                            \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "wire_parse_fuzzer: invariant violated: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                                       \
      __builtin_trap();                                                                             \
    }                                                                                               \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int fds = data[0] % 4;
  const std::span<const std::byte> msg(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const wire::Message m = wire::parse(msg, fds);

  std::uint32_t magic = 0;
  std::uint16_t size_field = 0;
  if (msg.size() >= 8) {
    std::memcpy(&magic, msg.data(), 4);
    std::memcpy(&size_field, msg.data() + 6, 2);
  }
  const bool framed = msg.size() >= 8 && magic == wire::kWireMagic && size_field == msg.size();

  if (const auto* h = std::get_if<wire::Hello>(&m)) {
    FUZZ_CHECK(framed && msg.size() == wire::kHelloSize && fds == 1);
    std::array<std::byte, wire::kHelloSize> again;
    wire::encode_hello(again, *h);
    FUZZ_CHECK(std::memcmp(again.data(), msg.data(), again.size()) == 0);
  } else if (const auto* d = std::get_if<wire::Doorbell>(&m)) {
    FUZZ_CHECK(framed && msg.size() == wire::kDoorbellSize && fds == 0);
    std::array<std::byte, wire::kDoorbellSize> again;
    wire::encode_doorbell(again, *d);
    FUZZ_CHECK(std::memcmp(again.data(), msg.data(), 12) == 0);  // bytes 12..15 are reserved
  } else if (std::holds_alternative<wire::Goodbye>(m)) {
    FUZZ_CHECK(framed && msg.size() == wire::kGoodbyeSize && fds == 0);
    std::array<std::byte, wire::kGoodbyeSize> again;
    wire::encode_goodbye(again);
    FUZZ_CHECK(std::memcmp(again.data(), msg.data(), again.size()) == 0);
  } else {
    FUZZ_CHECK(!std::get<wire::ParseError>(m).what.empty());
  }
  return 0;
}
