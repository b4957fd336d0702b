// The registration messages' own sizes: a header consistent with the bytes
// received but the wrong size for its type is refused by type; REFUSED with
// a wrong size field is not one; the refusals not named elsewhere read too.
#include <catch2/catch.hpp>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "preroll/shm/wire.hpp"

using namespace preroll::shm::wire;

namespace {

// A message of `size` bytes of `type` whose header is consistent with its size.
std::vector<std::byte> framed(Type type, std::uint16_t size) {
  std::vector<std::byte> m(size, std::byte{0});
  const std::uint32_t magic = kWireMagic;
  const auto t = static_cast<std::uint16_t>(type);
  std::memcpy(m.data(), &magic, 4);
  std::memcpy(m.data() + 4, &t, 2);
  std::memcpy(m.data() + 6, &size, 2);
  return m;
}

std::string error_of(const Message& m) {
  return std::holds_alternative<ParseError>(m) ? std::get<ParseError>(m).what : "parsed";
}

}  // namespace

TEST_CASE("wire: each client message of the wrong size for its type is refused, naming the size") {
  CHECK(error_of(parse(framed(Type::hello, 16), 1)) == "HELLO must be 24 bytes");
  CHECK(error_of(parse(framed(Type::doorbell, 24), 0)) == "DOORBELL must be 16 bytes");
  CHECK(error_of(parse(framed(Type::goodbye, 16), 0)) == "GOODBYE must be 8 bytes");
  CHECK(error_of(parse(framed(Type::goodbye, 8), 1)) == "GOODBYE must not carry descriptors");
  CHECK(error_of(parse(framed(Type::goodbye, 8), 0)) == "parsed");
}

TEST_CASE("wire: a REFUSED whose size field is wrong is not a refusal") {
  std::array<std::byte, kRefusedSize> r;
  encode_refused(r, {static_cast<std::uint32_t>(RefuseReason::faulty), 30});
  REQUIRE(parse_refused(r).has_value());
  auto wrong_size = r;
  wrong_size[6] = std::byte{24};
  CHECK_FALSE(parse_refused(wrong_size).has_value());
}

TEST_CASE("wire: the segment refusals read as sentences, and no room means nothing is written") {
  std::array<char, 128> text;
  describe({static_cast<std::uint32_t>(RefuseReason::segment_rejected), 0}, text);
  CHECK(std::string(text.data()) == "segment refused (the daemon's log says why)");
  describe({static_cast<std::uint32_t>(RefuseReason::faulty), 30}, text);
  CHECK(std::string(text.data()) == "segment found corrupt; detached, refused for 30 s");
  char untouched = 'x';
  describe({static_cast<std::uint32_t>(RefuseReason::faulty), 30}, std::span<char>(&untouched, 0));
  CHECK(untouched == 'x');
}
