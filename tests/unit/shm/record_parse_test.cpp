// Event records: what the client writes, the daemon's bounds-checked parser
// reads back exactly; anything impossible stops the parse at its offset.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "preroll/shm/event_record.hpp"
#include "preroll/shm/validate.hpp"

using namespace preroll::shm;

namespace {
struct Ring {
  std::vector<unsigned char> bytes = std::vector<unsigned char>(8192, 0xAA);
  std::uint32_t pos = 0;
  void put(std::uint64_t ts, std::uint8_t level, std::uint8_t flags, std::string_view name, std::string_view msg) {
    write_record(bytes.data() + pos, ts, level, flags, name.data(), static_cast<std::uint8_t>(name.size()),
                 msg.data(), static_cast<std::uint16_t>(msg.size()));
    pos += record_size(static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(msg.size()));
  }
  std::span<const unsigned char> committed() const { return {bytes.data(), pos}; }
};
}  // namespace

TEST_CASE("records written by the client parse back field for field, bytes included") {
  Ring r;
  const std::string binary("a\0b\xff\x80z", 6);
  r.put(1, 0, 0, "", "");
  r.put(2, 4, event_flag::client_marked, "net", "connection reset");
  r.put(3, 5, event_flag::truncated, binary, binary);
  std::vector<RecordView> got;
  std::vector<std::string> names, msgs;
  const auto res = parse_records(r.committed(), 4096, [&](const RecordView& v) {
    got.push_back(v);
    names.emplace_back(v.name);
    msgs.emplace_back(v.message);
  });
  REQUIRE(res.ok);
  REQUIRE(res.records == 3);
  CHECK(res.bytes_accepted == r.pos);
  CHECK(got[0].timestamp_raw == 1);
  CHECK(names[0].empty());
  CHECK(got[1].level == 4);
  CHECK(got[1].flags == event_flag::client_marked);
  CHECK(names[1] == "net");
  CHECK(msgs[1] == "connection reset");
  CHECK(names[2] == binary);
  CHECK(msgs[2] == binary);
  CHECK(got[2].flags == event_flag::truncated);
}

TEST_CASE("every record is 8-byte aligned and padding is zeroed") {
  Ring r;
  r.put(7, 2, 0, "n", "abc");  // 16 + 1 + 3 = 20 -> 24
  CHECK(r.pos == 24);
  CHECK(r.bytes[20] == 0);
  CHECK(r.bytes[23] == 0);
}

TEST_CASE("a record overrunning the committed bytes stops the parse at its offset") {
  Ring r;
  r.put(1, 2, 0, "a", "first");
  const std::uint32_t second = r.pos;
  r.put(2, 2, 0, "b", "second record");
  std::uint32_t seen = 0;
  const auto res = parse_records({r.bytes.data(), r.pos - 8}, 4096, [&](const RecordView&) { ++seen; });
  CHECK_FALSE(res.ok);
  CHECK(seen == 1);
  CHECK(res.bytes_accepted == second);
  CHECK(res.error.find(std::to_string(second)) != std::string::npos);
}

TEST_CASE("message longer than the segment's limit or an unknown level is refused") {
  Ring r;
  r.put(1, 2, 0, "", std::string(100, 'x'));
  CHECK_FALSE(parse_records(r.committed(), 64, [](const RecordView&) {}).ok);
  Ring bad;
  bad.put(1, 2, 0, "", "m");
  bad.bytes[11] = 9;  // level byte
  CHECK_FALSE(parse_records(bad.committed(), 4096, [](const RecordView&) {}).ok);
}

TEST_CASE("random bytes never make the parser read outside its span") {
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 2000; ++iter) {
    const std::size_t n = rng() % 512;
    // Exactly-sized heap buffer: ASan would catch any read past it.
    std::vector<unsigned char> buf(n);
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    std::size_t total = 0;
    const auto res = parse_records({buf.data(), buf.size()}, 65535, [&](const RecordView& v) {
      total += v.name.size() + v.message.size();
    });
    CHECK(res.bytes_accepted <= n);
    CHECK(total <= n);
  }
}

TEST_CASE("committed beyond the ring or misaligned is rejected") {
  CHECK(checked_committed(4096, 4096) == 4096u);
  CHECK_FALSE(checked_committed(4104, 4096).has_value());
  CHECK_FALSE(checked_committed(13, 4096).has_value());
  CHECK(checked_committed(0, 4096) == 0u);
}

TEST_CASE("ring extent: unwrapped and wrapped layouts accepted, impossible offsets refused") {
  auto e = checked_extent(0, 0, 4096, 8192);
  REQUIRE(e.has_value());
  CHECK(e->bytes() == 4096);
  e = checked_extent(1024, 6000, 512, 8192);  // older [1024,6000) then [0,512)
  REQUIRE(e.has_value());
  CHECK(e->older_begin == 1024);
  CHECK(e->older_end == 6000);
  CHECK(e->bytes() == 6000 - 1024 + 512);
  CHECK_FALSE(checked_extent(8, 0, 16, 8192).has_value());       // start without a wrap
  CHECK_FALSE(checked_extent(1024, 512, 0, 8192).has_value());    // start past wrap_end
  CHECK_FALSE(checked_extent(1024, 6000, 2048, 8192).has_value()); // newer part overlaps older
  CHECK_FALSE(checked_extent(1024, 9000, 0, 8192).has_value());   // wrap_end past the ring
  CHECK_FALSE(checked_extent(1020, 6000, 0, 8192).has_value());   // misaligned
}
