// The registration wire format: encoders and the pure parser, including
// every malformed shape a hostile client could send.
#include <catch2/catch.hpp>
#include <array>
#include <cstring>

#include "preroll/shm/wire.hpp"

using namespace preroll::shm::wire;

TEST_CASE("hello, doorbell and goodbye round trip through the parser") {
  std::array<std::byte, kHelloSize> h;
  encode_hello(h, {1, 4242, 1u << 20});
  auto m = parse(h, 1);
  REQUIRE(std::holds_alternative<Hello>(m));
  CHECK(std::get<Hello>(m).abi_version == 1);
  CHECK(std::get<Hello>(m).pid == 4242);
  CHECK(std::get<Hello>(m).segment_size == (1u << 20));

  std::array<std::byte, kDoorbellSize> d;
  encode_doorbell(d, {7});
  m = parse(d, 0);
  REQUIRE(std::holds_alternative<Doorbell>(m));
  CHECK(std::get<Doorbell>(m).lane == 7);

  std::array<std::byte, kGoodbyeSize> g;
  encode_goodbye(g);
  CHECK(std::holds_alternative<Goodbye>(parse(g, 0)));
}

TEST_CASE("hello without exactly one descriptor is an error") {
  std::array<std::byte, kHelloSize> h;
  encode_hello(h, {1, 1, 4096});
  CHECK(std::holds_alternative<ParseError>(parse(h, 0)));
  CHECK(std::holds_alternative<ParseError>(parse(h, 2)));
}

TEST_CASE("descriptors on a doorbell, bad magic, short, size mismatch and unknown type are errors") {
  std::array<std::byte, kDoorbellSize> d;
  encode_doorbell(d, {0});
  CHECK(std::holds_alternative<ParseError>(parse(d, 1)));
  auto bad = d;
  bad[0] = std::byte{0};
  CHECK(std::holds_alternative<ParseError>(parse(bad, 0)));
  CHECK(std::holds_alternative<ParseError>(parse(std::span(d).first(4), 0)));
  CHECK(std::holds_alternative<ParseError>(parse(std::span(d).first(12), 0)));
  auto unknown = d;
  const std::uint16_t t = 77;
  std::memcpy(unknown.data() + 4, &t, 2);
  const auto m = parse(unknown, 0);
  REQUIRE(std::holds_alternative<ParseError>(m));
  CHECK(std::get<ParseError>(m).what.find("77") != std::string::npos);
}

TEST_CASE("the daemon's REFUSED round trips, is never a client's message, and nothing else parses as one") {
  std::array<std::byte, kRefusedSize> r;
  encode_refused(r, {static_cast<std::uint32_t>(RefuseReason::max_clients_per_user), 3});
  const auto got = parse_refused(r);
  REQUIRE(got.has_value());
  CHECK(got->reason == static_cast<std::uint32_t>(RefuseReason::max_clients_per_user));
  CHECK(got->detail == 3);
  // A client sending it is a protocol error, like any message of the wrong direction.
  CHECK(std::holds_alternative<ParseError>(parse(r, 0)));

  std::array<std::byte, kDoorbellSize> d;
  encode_doorbell(d, {0});
  CHECK_FALSE(parse_refused(d).has_value());  // same size, other type
  CHECK_FALSE(parse_refused(std::span<const std::byte>(r.data(), 8)).has_value());
  auto bad = r;
  bad[0] = std::byte{0};
  CHECK_FALSE(parse_refused(bad).has_value());
}

TEST_CASE("a refusal reads as a sentence naming the limit, cut to fit, and an unknown reason still reads") {
  std::array<char, 128> text;
  describe({static_cast<std::uint32_t>(RefuseReason::max_clients_per_user), 3}, text);
  CHECK(std::string(text.data()) == "too many client connections of this user (--max-clients-per-user 3)");
  describe({static_cast<std::uint32_t>(RefuseReason::max_clients), 4096}, text);
  CHECK(std::string(text.data()) == "too many client connections (--max-clients 4096)");
  describe({static_cast<std::uint32_t>(RefuseReason::hello_timeout), 5}, text);
  CHECK(std::string(text.data()) == "no valid HELLO within 5 s (--hello-timeout)");
  describe({static_cast<std::uint32_t>(RefuseReason::quarantined), 7}, text);
  CHECK(std::string(text.data()).find("7 s") != std::string::npos);
  describe({99, 0}, text);
  CHECK(std::string(text.data()) == "refused (reason 99)");
  std::array<char, 8> small;
  describe({static_cast<std::uint32_t>(RefuseReason::max_clients), 1}, small);
  CHECK(std::string(small.data()) == "too man");
}
