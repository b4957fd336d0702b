// Damaged bytes: the reader never crashes, stops at the first damaged record
// and returns every window before it intact.
#include "atf_test_support.hpp"

using namespace atf_test;

namespace {

// Byte ranges of the files' records, found by walking the headers of a file
// known to be good.
struct RecordSpan {
  std::uint64_t offset = 0;
  std::uint64_t end = 0;
};

std::vector<RecordSpan> record_spans(const std::vector<std::uint8_t>& bytes) {
  std::vector<RecordSpan> spans;
  std::uint64_t at = 16;
  while (at < bytes.size()) {
    std::uint64_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::uint64_t{bytes[at + 4 + i]} << (8 * i);
    const std::uint64_t end = at + 16 + (length + 7) / 8 * 8;
    spans.push_back({at, end});
    at = end;
  }
  return spans;
}

std::vector<std::uint8_t> with_records(const std::vector<std::uint8_t>& bytes, std::uint64_t at,
                                       const std::vector<std::uint8_t>& record) {
  std::vector<std::uint8_t> out(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(at));
  out.insert(out.end(), record.begin(), record.end());
  out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
  return out;
}

}  // namespace

TEST_CASE("random bit flips: no crash, stop at the damaged window, earlier windows intact", "[atf][corruption]") {
  TempDir dir;
  const auto original = dir.file("whole.atf");
  const std::vector<SampleWindow> windows = {make_window(0, 3), make_window(1, 5), make_window(2, 0),
                                             make_window(3, 2)};
  const Compression compression = GENERATE(Compression::none, Compression::zstd);
  INFO("compression " << to_string(compression));
  const WrittenFile file = write_file(original, windows, {compression});
  const auto bytes = load_bytes(original);
  const auto spans = record_spans(bytes);
  REQUIRE(spans.back().end == bytes.size());

  std::mt19937_64 rng(20240501);
  const auto damaged = dir.file("damaged.atf");
  for (int iteration = 0; iteration < 400; ++iteration) {
    const std::uint64_t at = rng() % bytes.size();
    const int bit = static_cast<int>(rng() % 8);
    INFO("iteration " << iteration << ": flipped bit " << bit << " of byte " << at);
    auto copy = bytes;
    copy[at] ^= static_cast<std::uint8_t>(1u << bit);
    save_bytes(damaged, copy);

    if (at < file.header_end) {
      CHECK_THROWS_AS(Reader::open(damaged), std::runtime_error);
      continue;
    }
    ReadStatus status;
    const auto got = read_all(damaged, status);

    std::size_t intact = 0;
    std::uint64_t intact_end = file.header_end;
    while (intact < file.window_ends.size() && file.window_ends[intact] <= at) intact_end = file.window_ends[intact++];
    REQUIRE(got.size() == intact);
    for (std::size_t i = 0; i < intact; ++i) check_window(got[i], windows[i]);
    CHECK(status.offset == intact_end);

    // The record holding the flipped byte is the one rejected. Only a
    // damaged length that points past the end of the file reads as a cut.
    const auto hit = std::find_if(spans.begin(), spans.end(), [&](const RecordSpan& s) { return at < s.end; });
    CHECK(status.record_offset == hit->offset);
    const bool in_length_field = at >= hit->offset + 4 && at < hit->offset + 8;
    if (status.reason == StopReason::truncated) {
      CHECK(in_length_field);
    } else {
      CHECK((status.reason == StopReason::bad_checksum || status.reason == StopReason::bad_record));
    }
  }
}

TEST_CASE("random bytes after a valid header never crash the reader", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("noise.atf");
  const WrittenFile file = write_file(path, {});
  const auto good = load_bytes(path);
  std::mt19937_64 rng(7);
  for (int iteration = 0; iteration < 200; ++iteration) {
    std::vector<std::uint8_t> bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(file.header_end));
    const std::size_t noise = rng() % 300;
    for (std::size_t i = 0; i < noise; ++i) bytes.push_back(static_cast<std::uint8_t>(rng()));
    save_bytes(path, bytes);
    ReadStatus status;
    const auto got = read_all(path, status);
    CHECK(got.empty());
    CHECK((noise == 0 ? status.ok() : !status.ok()));
  }
}

TEST_CASE("a huge record length is rejected before any allocation", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("huge-length.atf");
  const WrittenFile file = write_file(path, {make_window(0, 1)});
  auto bytes = load_bytes(path);
  // Window record length := 0xffffffff.
  for (int i = 0; i < 4; ++i) bytes[file.header_end + 4 + i] = 0xff;
  save_bytes(path, bytes);

  ReadStatus status;
  CHECK(read_all(path, status).empty());
  CHECK(status.reason == StopReason::bad_record);
  CHECK(status.record_offset == file.header_end);
  CHECK_THAT(status.detail, Catch::Contains("limit"));
}

TEST_CASE("a zero-filled tail is a bad record, not a crash or a silent end", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("zeros.atf");
  const WrittenFile file = write_file(path, {make_window(0, 2)});
  auto bytes = load_bytes(path);
  bytes.resize(last_window_end(file));
  bytes.resize(bytes.size() + 4096, 0);
  save_bytes(path, bytes);

  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::bad_record);
  CHECK(status.offset == last_window_end(file));
}

TEST_CASE("bytes after the end record are reported", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("trailing.atf");
  write_file(path, {make_window(0, 2)});
  auto bytes = load_bytes(path);
  const std::uint64_t size = bytes.size();
  bytes.push_back('x');
  save_bytes(path, bytes);

  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::bad_record);
  CHECK(status.offset == size);
}

TEST_CASE("an unknown record type is skipped only when flagged skippable", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("unknown.atf");
  const WrittenFile file = write_file(path, {make_window(0, 2), make_window(1, 1)});
  const auto bytes = load_bytes(path);
  // Between the two windows, so the end record's counts still hold.
  const auto at = file.window_ends[0];

  SECTION("skippable") {
    save_bytes(path, with_records(bytes, at, encode_record(0x7001, 0x0002, {1, 2, 3})));
    ReadStatus status;
    CHECK(read_all(path, status).size() == 2);
    CHECK(status.reason == StopReason::bad_record);  // the end record's offset no longer matches
  }
  SECTION("skippable, end record rewritten") {
    auto edited = with_records(bytes, at, encode_record(0x7001, 0x0002, {1, 2, 3}));
    const std::uint64_t end_at = file.window_ends[1] + 24;
    edited.resize(end_at);
    std::vector<std::uint8_t> end;
    put_le(end, 2, 8);
    put_le(end, 3, 8);
    put_le(end, end_at, 8);
    const auto record = encode_record(4, 0, end);
    edited.insert(edited.end(), record.begin(), record.end());
    save_bytes(path, edited);
    ReadStatus status;
    CHECK(read_all(path, status).size() == 2);
    CHECK(status.reason == StopReason::clean_end);
  }
  SECTION("not skippable") {
    save_bytes(path, with_records(bytes, at, encode_record(0x7001, 0, {1, 2, 3})));
    ReadStatus status;
    CHECK(read_all(path, status).size() == 1);
    CHECK(status.reason == StopReason::bad_record);
    CHECK(status.offset == at);
    CHECK_THAT(status.detail, Catch::Contains("unknown record type"));
  }
}

TEST_CASE("compressed records: only events, only one whole zstd frame with its size", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("z.atf");
  const WrittenFile file = write_file(path, {make_window(0, 2), make_window(1, 1)});
  const auto bytes = load_bytes(path);
  const std::uint64_t at = file.window_ends[0];
  const auto expect_bad = [&](const std::vector<std::uint8_t>& record, const char* why) {
    save_bytes(path, with_records(bytes, at, record));
    ReadStatus status;
    CHECK(read_all(path, status).size() == 1);
    CHECK(status.reason == StopReason::bad_record);
    CHECK(status.record_offset == at);
    CHECK_THAT(status.detail, Catch::Contains(why));
  };
  SECTION("compressed window record") { expect_bad(encode_record(2, 0x0001, {1, 2, 3}), "only events"); }
  SECTION("garbage that is not a zstd frame") { expect_bad(encode_record(3, 0x0001, {1, 2, 3}), "frame"); }
  SECTION("a valid frame that claims a size over the record limit") {
    // zstd frame header: magic, descriptor 0xE0 = 8-byte content size, single segment.
    std::vector<std::uint8_t> frame = {0x28, 0xB5, 0x2F, 0xFD, 0xE0};
    put_le(frame, 1ull << 40, 8);
    frame.insert(frame.end(), {0x01, 0x00, 0x00});  // last raw block, 0 bytes
    expect_bad(encode_record(3, 0x0001, frame), "over the record limit");
  }
}

TEST_CASE("records out of order are bad records", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("order.atf");
  const WrittenFile file = write_file(path, {make_window(0, 2)});
  const auto bytes = load_bytes(path);
  const auto spans = record_spans(bytes);  // header, WINDOW, EVENTS, END
  REQUIRE(spans.size() == 4);
  const auto slice = [&](const RecordSpan& s) {
    return std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(s.offset),
                                     bytes.begin() + static_cast<std::ptrdiff_t>(s.end));
  };

  SECTION("events record without its window") {
    save_bytes(path, with_records(bytes, file.header_end, slice(spans[2])));
  }
  SECTION("a second window before the first is complete") {
    save_bytes(path, with_records(bytes, spans[2].offset, slice(spans[1])));
  }
  // The window record re-encoded (valid checksum) with another event count.
  const auto window_claiming = [&](std::uint32_t events) {
    std::uint64_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::uint64_t{bytes[spans[1].offset + 4 + i]} << (8 * i);
    std::vector<std::uint8_t> payload(bytes.begin() + static_cast<std::ptrdiff_t>(spans[1].offset + 16),
                                      bytes.begin() + static_cast<std::ptrdiff_t>(spans[1].offset + 16 + length));
    for (int i = 0; i < 4; ++i) payload[56 + i] = static_cast<std::uint8_t>(events >> (8 * i));
    auto edited = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(spans[1].offset));
    const auto record = encode_record(2, 0, payload);
    edited.insert(edited.end(), record.begin(), record.end());
    edited.insert(edited.end(), bytes.begin() + static_cast<std::ptrdiff_t>(spans[2].offset), bytes.end());
    return edited;
  };
  SECTION("a window claiming more events than follow it") { save_bytes(path, window_claiming(3)); }
  SECTION("a window claiming fewer events than follow it") { save_bytes(path, window_claiming(1)); }
  SECTION("a second file header") {
    save_bytes(path, with_records(bytes, file.header_end, slice(spans[0])));
  }
  ReadStatus status;
  CHECK(read_all(path, status).empty());
  CHECK(status.reason == StopReason::bad_record);
  CHECK(status.offset == file.header_end);
}

TEST_CASE("open refuses files that are not ATF v1", "[atf][corruption]") {
  TempDir dir;
  const auto path = dir.file("other.atf");
  write_file(path, {});
  const auto bytes = load_bytes(path);

  SECTION("missing file") { CHECK_THROWS_WITH(Reader::open(dir.file("nope.atf")), Catch::Contains("cannot open")); }
  SECTION("a directory") { CHECK_THROWS_AS(Reader::open(dir.file("")), std::runtime_error); }
  SECTION("bad magic") {
    auto edited = bytes;
    edited[0] = 'X';
    save_bytes(path, edited);
    CHECK_THROWS_WITH(Reader::open(path), Catch::Contains("bad magic"));
  }
  SECTION("newer version") {
    auto edited = bytes;
    edited[8] = 2;
    save_bytes(path, edited);
    CHECK_THROWS_WITH(Reader::open(path), Catch::Contains("version 2"));
  }
  SECTION("header that is not JSON, with a valid checksum") {
    std::vector<std::uint8_t> edited(bytes.begin(), bytes.begin() + 16);
    const auto record = encode_record(1, 0, {'[', '1', ']'});
    edited.insert(edited.end(), record.begin(), record.end());
    save_bytes(path, edited);
    CHECK_THROWS_WITH(Reader::open(path), Catch::Contains("JSON object"));
  }
  SECTION("header with a field of the wrong type") {
    std::vector<std::uint8_t> edited(bytes.begin(), bytes.begin() + 16);
    const std::string json = R"({"format_version":1,"pid":"twelve"})";
    const auto record = encode_record(1, 0, {json.begin(), json.end()});
    edited.insert(edited.end(), record.begin(), record.end());
    save_bytes(path, edited);
    CHECK_THROWS_WITH(Reader::open(path), Catch::Contains("pid"));
  }
}

TEST_CASE("a header with unknown keys and missing keys is accepted", "[atf][compatibility]") {
  TempDir dir;
  const auto path = dir.file("future.atf");
  write_file(path, {});
  const auto bytes = load_bytes(path);
  std::vector<std::uint8_t> edited(bytes.begin(), bytes.begin() + 16);
  const std::string json = R"({"format_version":1,"pid":7,"added_in_v1_5":{"x":[1,2]},"host_name":"h"})";
  const auto record = encode_record(1, 0, {json.begin(), json.end()});
  edited.insert(edited.end(), record.begin(), record.end());
  save_bytes(path, edited);

  auto reader = Reader::open(path);
  CHECK(reader->header().pid == 7);
  CHECK(reader->header().host_name == "h");
  CHECK(reader->header().process_name.empty());
}
