#include "preroll/shm/wire.hpp"

#include <cstdio>
#include <cstring>

namespace preroll::shm::wire {

namespace {

template <typename T>
T load(std::span<const std::byte> b, std::size_t off) noexcept {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

template <typename T>
void store(std::byte* out, std::size_t off, T v) noexcept {
  std::memcpy(out + off, &v, sizeof v);
}

void encode_common(std::byte* out, Type type, std::size_t size) noexcept {
  std::memset(out, 0, size);
  store<std::uint32_t>(out, 0, kWireMagic);
  store<std::uint16_t>(out, 4, static_cast<std::uint16_t>(type));
  store<std::uint16_t>(out, 6, static_cast<std::uint16_t>(size));
}

}  // namespace

Message parse(std::span<const std::byte> bytes, int fds_received) {
  if (bytes.size() < 8) return ParseError{"message of " + std::to_string(bytes.size()) + " bytes is too short"};
  if (load<std::uint32_t>(bytes, 0) != kWireMagic) return ParseError{"bad magic"};
  const auto type = load<std::uint16_t>(bytes, 4);
  const auto size = load<std::uint16_t>(bytes, 6);
  if (size != bytes.size())
    return ParseError{"size field " + std::to_string(size) + " does not match the " + std::to_string(bytes.size()) +
                      " bytes received"};
  switch (static_cast<Type>(type)) {
    case Type::hello: {
      if (size != kHelloSize) return ParseError{"HELLO must be " + std::to_string(kHelloSize) + " bytes"};
      if (fds_received != 1)
        return ParseError{"HELLO must carry exactly one descriptor, got " + std::to_string(fds_received)};
      Hello h;
      h.abi_version = load<std::uint32_t>(bytes, 8);
      h.pid = load<std::uint32_t>(bytes, 12);
      h.segment_size = load<std::uint64_t>(bytes, 16);
      return h;
    }
    case Type::doorbell:
      if (size != kDoorbellSize) return ParseError{"DOORBELL must be " + std::to_string(kDoorbellSize) + " bytes"};
      if (fds_received != 0) return ParseError{"DOORBELL must not carry descriptors"};
      return Doorbell{load<std::uint32_t>(bytes, 8)};
    case Type::goodbye:
      if (size != kGoodbyeSize) return ParseError{"GOODBYE must be " + std::to_string(kGoodbyeSize) + " bytes"};
      if (fds_received != 0) return ParseError{"GOODBYE must not carry descriptors"};
      return Goodbye{};
    case Type::refused:
      return ParseError{"REFUSED is the daemon's message, not a client's"};
  }
  return ParseError{"unknown message type " + std::to_string(type)};
}

std::optional<Refused> parse_refused(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() != kRefusedSize || load<std::uint32_t>(bytes, 0) != kWireMagic ||
      load<std::uint16_t>(bytes, 4) != static_cast<std::uint16_t>(Type::refused) ||
      load<std::uint16_t>(bytes, 6) != kRefusedSize)
    return std::nullopt;
  return Refused{load<std::uint32_t>(bytes, 8), load<std::uint32_t>(bytes, 12)};
}

void describe(const Refused& r, std::span<char> out) noexcept {
  if (out.empty()) return;
  const unsigned d = r.detail;
  switch (static_cast<RefuseReason>(r.reason)) {
    case RefuseReason::max_clients:
      std::snprintf(out.data(), out.size(), "too many client connections (--max-clients %u)", d);
      return;
    case RefuseReason::max_clients_per_user:
      std::snprintf(out.data(), out.size(), "too many client connections of this user (--max-clients-per-user %u)", d);
      return;
    case RefuseReason::hello_timeout:
      std::snprintf(out.data(), out.size(), "no valid HELLO within %u s (--hello-timeout)", d);
      return;
    case RefuseReason::segment_rejected:
      std::snprintf(out.data(), out.size(), "segment refused (the daemon's log says why)");
      return;
    case RefuseReason::faulty:
      std::snprintf(out.data(), out.size(), "segment found corrupt; detached, refused for %u s", d);
      return;
    case RefuseReason::quarantined:
      std::snprintf(out.data(), out.size(), "segment found corrupt recently; refused for another %u s", d);
      return;
  }
  std::snprintf(out.data(), out.size(), "refused (reason %u)", static_cast<unsigned>(r.reason));
}

void encode_hello(std::span<std::byte, kHelloSize> out, const Hello& h) noexcept {
  encode_common(out.data(), Type::hello, kHelloSize);
  store<std::uint32_t>(out.data(), 8, h.abi_version);
  store<std::uint32_t>(out.data(), 12, h.pid);
  store<std::uint64_t>(out.data(), 16, h.segment_size);
}

void encode_doorbell(std::span<std::byte, kDoorbellSize> out, const Doorbell& d) noexcept {
  encode_common(out.data(), Type::doorbell, kDoorbellSize);
  store<std::uint32_t>(out.data(), 8, d.lane);
}

void encode_goodbye(std::span<std::byte, kGoodbyeSize> out) noexcept {
  encode_common(out.data(), Type::goodbye, kGoodbyeSize);
}

void encode_refused(std::span<std::byte, kRefusedSize> out, const Refused& r) noexcept {
  encode_common(out.data(), Type::refused, kRefusedSize);
  store<std::uint32_t>(out.data(), 8, r.reason);
  store<std::uint32_t>(out.data(), 12, r.detail);
}

}  // namespace preroll::shm::wire
