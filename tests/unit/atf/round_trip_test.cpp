// What a Writer writes, a Reader gives back exactly.
#include "atf_test_support.hpp"

using namespace atf_test;

TEST_CASE("header round trip, every field preserved", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("header.atf");
  const FileHeader want = sample_header();
  Writer::create(path, want)->close();

  auto reader = Reader::open(path);
  const FileHeader& got = reader->header();
  CHECK(got.format_version == current_format_version);
  CHECK(got.preroll_version == want.preroll_version);
  CHECK(got.host_name == want.host_name);
  CHECK(got.boot_id == want.boot_id);
  CHECK(got.pid == want.pid);
  CHECK(got.uid == want.uid);
  CHECK(got.process_name == want.process_name);
  CHECK(got.command_line == want.command_line);
  CHECK(got.process_start_ns == want.process_start_ns);
  CHECK(got.clock_realtime_ns == want.clock_realtime_ns);
  CHECK(got.clock_monotonic_ns == want.clock_monotonic_ns);
  CHECK(got.policy_json == want.policy_json);
  CHECK(got.file_sequence == want.file_sequence);
}

TEST_CASE("header round trip, extreme integers and negative clocks", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("extreme.atf");
  FileHeader want;
  want.pid = UINT32_MAX;
  want.uid = UINT32_MAX;
  want.process_start_ns = UINT64_MAX;
  want.clock_realtime_ns = INT64_MIN;
  want.clock_monotonic_ns = INT64_MAX;
  want.file_sequence = UINT32_MAX;
  Writer::create(path, want)->close();

  const FileHeader got = Reader::open(path)->header();
  CHECK(got.pid == want.pid);
  CHECK(got.uid == want.uid);
  CHECK(got.process_start_ns == want.process_start_ns);
  CHECK(got.clock_realtime_ns == want.clock_realtime_ns);
  CHECK(got.clock_monotonic_ns == want.clock_monotonic_ns);
  CHECK(got.file_sequence == want.file_sequence);
}

TEST_CASE("window round trip, every field preserved", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("window.atf");
  SampleWindow w;
  w.meta = {.window_id = 0xfedcba9876543210ULL,
            .lane = 0x89abcdefu,
            .tid = 0x7fffffffu,
            .ring_sequence = UINT64_MAX - 1,
            .reason = KeepReason::client_crash,
            .start_ns = 1,
            .end_ns = UINT64_MAX,
            .first_marked_ns = 0x0102030405060708ULL,
            .event_count = 0,
            .marked_count = 77,
            .lost_events_before = 0x1111111111111111ULL,
            .lost_bytes_before = 0x2222222222222222ULL,
            .patterns = {{0, 1}, {5, 0xffffffffu}, {0xffffffffu, 3}}};
  write_file(path, {w});

  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == 1);
  CHECK(got[0].meta == w.meta);
  CHECK(got[0].events.empty());
  CHECK(status.reason == StopReason::clean_end);
}

TEST_CASE("window with no pattern hits and every keep reason round trips", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("reasons.atf");
  std::vector<SampleWindow> windows;
  for (std::uint8_t r = 1; r <= 11; ++r) {
    SampleWindow w = make_window(r - 1, 2);
    w.meta.reason = static_cast<KeepReason>(r);  // 11 is unknown to this build
    w.meta.patterns.clear();
    windows.push_back(w);
  }
  write_file(path, windows);

  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == windows.size());
  for (std::size_t i = 0; i < got.size(); ++i) check_window(got[i], windows[i]);
  CHECK(to_string(got.back().meta.reason) == "unknown");
}

TEST_CASE("events round trip, binary bytes and size limits preserved", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("events.atf");
  SampleWindow w;
  const auto add = [&](std::string name, std::string message) {
    StoredEvent e;
    e.timestamp_ns = 1000 + w.events.size();
    e.level = static_cast<std::uint8_t>(w.events.size());
    e.kind = 0xff;
    e.flags = event_flags::client_marked | event_flags::truncated | event_flags::policy_marked | 0x80;
    e.name = std::move(name);
    e.message = std::move(message);
    w.events.push_back(std::move(e));
  };
  add("", "");
  add(std::string("n\0ul", 4), std::string("\0\xff\x01\x7f\x80 text \0", 13));
  add(std::string(255, '\xff'), std::string(65535, '\0'));
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  add(every_byte.substr(1), every_byte);
  add("x", std::string(65535, 'm'));
  w.meta.event_count = static_cast<std::uint32_t>(w.events.size());
  write_file(path, {w});

  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == 1);
  check_window(got[0], w);
  CHECK(status.reason == StopReason::clean_end);
  CHECK(status.events == w.events.size());
}

TEST_CASE("many windows come back in write order", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("many.atf");
  std::vector<SampleWindow> windows;
  for (std::uint64_t id = 0; id < 300; ++id) windows.push_back(make_window(id, id % 17));
  write_file(path, windows);

  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == windows.size());
  for (std::size_t i = 0; i < got.size(); ++i) check_window(got[i], windows[i]);
  CHECK(status.reason == StopReason::clean_end);
  CHECK(status.windows == windows.size());
  CHECK(status.offset == std::filesystem::file_size(path));
}

TEST_CASE("a window over 4 MiB is split into several events records and reassembled", "[atf][round-trip]") {
  TempDir dir;
  const auto path = dir.file("huge.atf");
  SampleWindow w = make_window(9, 0);
  for (std::uint32_t i = 0; i < 150; ++i) {
    StoredEvent e;
    e.timestamp_ns = i;
    e.name = "big";
    e.message = std::string(65535, static_cast<char>('a' + i % 26));
    w.events.push_back(std::move(e));
  }
  w.meta.event_count = static_cast<std::uint32_t>(w.events.size());
  write_file(path, {w, make_window(10, 3)});

  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == 2);
  check_window(got[0], w);
  CHECK(got[1].meta.window_id == 10);
  CHECK(status.reason == StopReason::clean_end);
  // header + WINDOW + at least 3 EVENTS (9.8 MiB / 4 MiB) + WINDOW + EVENTS + END
  CHECK(status.good_records >= 8);
}

TEST_CASE("wall clock conversion uses the header's clock pair", "[atf]") {
  FileHeader h;
  h.clock_realtime_ns = 1'700'000'000'000'000'000LL;
  h.clock_monotonic_ns = 5'000'000'000LL;
  CHECK(wall_clock_ns(h, 5'000'000'000ULL) == h.clock_realtime_ns);
  CHECK(wall_clock_ns(h, 6'500'000'000ULL) == h.clock_realtime_ns + 1'500'000'000LL);
  CHECK(wall_clock_ns(h, 4'000'000'000ULL) == h.clock_realtime_ns - 1'000'000'000LL);
}

TEST_CASE("names of levels, keep reasons and stop reasons", "[atf]") {
  CHECK(level_name(0) == "trace");
  CHECK(level_name(5) == "fatal");
  CHECK(level_name(6) == "L6");
  CHECK(to_string(KeepReason::pre_roll) == "pre-roll");
  CHECK(to_string(StopReason::eof_no_end) == "no end record");
}

TEST_CASE("compressed and plain files hold the same windows, and zstd is used only when smaller", "[atf][round-trip]") {
  TempDir dir;
  std::vector<SampleWindow> windows;
  for (std::uint64_t id = 0; id < 6; ++id) windows.push_back(make_window(id, id * 40));
  SampleWindow big = make_window(6, 0);  // over 4 MiB: several compressed records
  big.events.resize(2000);
  for (std::size_t i = 0; i < big.events.size(); ++i) {
    big.events[i].timestamp_ns = 7'000'000'000ULL + i;
    big.events[i].message.assign(3000, static_cast<char>('a' + i % 26));
  }
  big.meta.event_count = static_cast<std::uint32_t>(big.events.size());
  windows.push_back(big);

  const WrittenFile plain = write_file(dir.file("plain.atf"), windows, {Compression::none});
  const WrittenFile packed = write_file(dir.file("packed.atf"), windows, {Compression::zstd, 3});
  CHECK(packed.size < plain.size / 4);
  for (const char* name : {"plain.atf", "packed.atf"}) {
    INFO(name);
    ReadStatus status;
    const auto got = read_all(dir.file(name), status);
    CHECK(status.reason == StopReason::clean_end);
    REQUIRE(got.size() == windows.size());
    for (std::size_t i = 0; i < got.size(); ++i) check_window(got[i], windows[i]);
  }

  // Random bytes do not compress: the writer stores them plain, flag clear.
  SampleWindow noise = make_window(0, 1);
  std::mt19937_64 rng(7);
  noise.events[0].message.resize(60000);
  for (char& c : noise.events[0].message) c = static_cast<char>(rng());
  auto writer = Writer::create(dir.file("noise.atf"), sample_header(), {Compression::zstd});
  const auto views = noise.views();
  const std::uint64_t header_end = writer->bytes_written();
  writer->append_window(noise.meta, views);
  writer->close();
  CHECK(writer->raw_event_bytes() == 16 + 16 + noise.events[0].name.size() + 60000);
  const auto bytes = load_bytes(dir.file("noise.atf"));
  const std::uint64_t window_payload = 80 + 8 * noise.meta.patterns.size();
  const auto events_at = header_end + 16 + ((window_payload + 7) / 8) * 8;
  REQUIRE(bytes.size() > events_at + 4);
  CHECK(bytes[events_at] == 3);      // EVENTS
  CHECK(bytes[events_at + 2] == 0);  // flags: not compressed
  ReadStatus status;
  const auto got = read_all(dir.file("noise.atf"), status);
  REQUIRE(got.size() == 1);
  check_window(got[0], noise);
}

TEST_CASE("compression names parse and print", "[atf]") {
  Compression c = Compression::none;
  CHECK(parse_compression("zstd", c));
  CHECK(c == Compression::zstd);
  CHECK(parse_compression("none", c));
  CHECK(c == Compression::none);
  CHECK_FALSE(parse_compression("gzip", c));
  CHECK(to_string(Compression::zstd) == "zstd");
}
