// The bytes on disk are the ones docs/atf.md specifies, checked by decoding
// them here by hand rather than with the library's own decoder.
#include "atf_test_support.hpp"

using namespace atf_test;

namespace {

std::uint64_t le(const std::vector<std::uint8_t>& b, std::size_t at, int size) {
  std::uint64_t v = 0;
  for (int i = 0; i < size; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}

}  // namespace

TEST_CASE("file layout matches the specification byte for byte", "[atf][layout]") {
  TempDir dir;
  const auto path = dir.file("layout.atf");
  SampleWindow w;
  w.meta.window_id = 0x0102030405060708ULL;
  w.meta.lane = 5;
  w.meta.tid = 77;
  w.meta.reason = KeepReason::post_roll;
  w.meta.event_count = 1;
  w.meta.patterns = {{9, 4}};
  StoredEvent e;
  e.timestamp_ns = 0xaabbccdd;
  e.level = 4;
  e.flags = event_flags::policy_marked;
  e.pattern = 10;  // marked by pattern id 9
  e.name = "ab";
  e.message = "xyz";
  w.events.push_back(e);
  const WrittenFile file = write_file(path, {w});
  const auto b = load_bytes(path);

  // Preamble.
  CHECK(std::string(b.begin(), b.begin() + 8) == "PRLATF\r\n");
  CHECK(le(b, 8, 4) == 1);
  CHECK(le(b, 12, 4) == 0);

  // Every record: header, checksum seeded with type | flags << 16 | length << 32, zero padding.
  std::size_t at = 16;
  std::vector<std::uint16_t> types;
  while (at < b.size()) {
    const auto type = static_cast<std::uint16_t>(le(b, at, 2));
    const auto flags = le(b, at + 2, 2);
    const auto length = le(b, at + 4, 4);
    const auto seed = type | flags << 16 | length << 32;
    CHECK(flags == 0);
    CHECK(le(b, at + 8, 8) == XXH3_64bits_withSeed(b.data() + at + 16, length, seed));
    const std::size_t padded = (length + 7) / 8 * 8;
    for (std::size_t i = length; i < padded; ++i) CHECK(b[at + 16 + i] == 0);
    types.push_back(type);

    if (type == 1) CHECK(b[at + 16] == '{');
    if (type == 2) {
      CHECK(length == 80 + 8);
      CHECK(le(b, at + 16, 8) == w.meta.window_id);
      CHECK(le(b, at + 16 + 8, 4) == 5);
      CHECK(le(b, at + 16 + 12, 4) == 77);
      CHECK(b[at + 16 + 24] == 3);
      CHECK(le(b, at + 16 + 28, 4) == 1);
      CHECK(le(b, at + 16 + 56, 4) == 1);
      CHECK(le(b, at + 16 + 80, 4) == 9);
      CHECK(le(b, at + 16 + 84, 4) == 4);
    }
    if (type == 3) {
      CHECK(length == 16 + 16 + 2 + 3);
      CHECK(le(b, at + 16, 8) == w.meta.window_id);
      CHECK(le(b, at + 16 + 8, 4) == 0);   // first event
      CHECK(le(b, at + 16 + 12, 4) == 1);  // count
      const std::size_t e = at + 32;
      CHECK(le(b, e, 8) == 0xaabbccdd);
      CHECK(b[e + 8] == 4);
      CHECK(b[e + 10] == event_flags::policy_marked);
      CHECK(b[e + 11] == 2);
      CHECK(le(b, e + 12, 2) == 3);
      CHECK(le(b, e + 14, 2) == 10);
      CHECK(std::string(b.begin() + static_cast<std::ptrdiff_t>(e + 16), b.begin() + static_cast<std::ptrdiff_t>(e + 21)) ==
            "abxyz");
    }
    if (type == 4) {
      CHECK(length == 24);
      CHECK(le(b, at + 16, 8) == 1);
      CHECK(le(b, at + 24, 8) == 1);
      CHECK(le(b, at + 32, 8) == last_window_end(file));
    }
    at += 16 + padded;
  }
  CHECK(at == b.size());
  CHECK(types == std::vector<std::uint16_t>{1, 2, 3, 4});
}
