// Every check the reader makes on bytes whose checksum is right: records
// re-encoded from docs/atf.md with a valid checksum but a payload a correct
// writer never makes, each rejected with its own reason, never trusted. And
// the file changing under the reader (growing, shrinking, failing to read).
#include "atf_test_support.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <limits>
#include <system_error>

using namespace atf_test;

namespace {

// The preamble and header record of a valid file with no window.
std::vector<std::uint8_t> valid_start(const TempDir& dir) {
  const auto path = dir.file("start.atf");
  const WrittenFile f = write_file(path, {});
  auto bytes = load_bytes(path);
  bytes.resize(f.header_end);
  fs::remove(path);
  return bytes;
}

// A WINDOW payload (docs/atf.md): 80 fixed bytes, then 8 per pattern hit.
std::vector<std::uint8_t> window_payload(std::uint64_t id, std::uint32_t event_count, std::uint8_t reason = 1,
                                         std::uint32_t hits = 0) {
  std::vector<std::uint8_t> p;
  put_le(p, id, 8);           // window_id
  put_le(p, 0, 4);            // lane
  put_le(p, 0, 4);            // tid
  put_le(p, 0, 8);            // ring_sequence
  p.push_back(reason);        // reason
  p.insert(p.end(), 3, 0);    // reserved
  put_le(p, hits, 4);         // pattern_count
  for (int i = 0; i < 3; ++i) put_le(p, 0, 8);  // start, end, first marked
  put_le(p, event_count, 4);  // event_count
  put_le(p, 0, 4);            // marked_count
  put_le(p, 0, 8);            // lost events
  put_le(p, 0, 8);            // lost bytes
  for (std::uint32_t i = 0; i < hits; ++i) put_le(p, i, 8);
  return p;
}

// An EVENTS payload: batch header, then `events` of (name, message).
std::vector<std::uint8_t> events_payload(std::uint64_t window, std::uint32_t first, std::uint32_t count,
                                         const std::vector<std::pair<std::string, std::string>>& events) {
  std::vector<std::uint8_t> p;
  put_le(p, window, 8);
  put_le(p, first, 4);
  put_le(p, count, 4);
  for (const auto& [name, message] : events) {
    put_le(p, 1000, 8);  // timestamp
    p.insert(p.end(), {2, 0, 0});
    p.push_back(static_cast<std::uint8_t>(name.size()));
    put_le(p, message.size(), 2);
    put_le(p, 0, 2);  // pattern
    p.insert(p.end(), name.begin(), name.end());
    p.insert(p.end(), message.begin(), message.end());
  }
  return p;
}

std::vector<std::uint8_t> end_payload(std::uint64_t windows, std::uint64_t events, std::uint64_t offset) {
  std::vector<std::uint8_t> p;
  put_le(p, windows, 8);
  put_le(p, events, 8);
  put_le(p, offset, 8);
  return p;
}

void append(std::vector<std::uint8_t>& file, std::uint16_t type, const std::vector<std::uint8_t>& payload,
            std::uint16_t flags = 0) {
  const auto record = encode_record(type, flags, payload);
  file.insert(file.end(), record.begin(), record.end());
}

// Reads the file `bytes` to the end: the windows returned and the status.
struct Outcome {
  std::size_t windows = 0;
  ReadStatus status;
};
Outcome read_bytes(const TempDir& dir, const std::vector<std::uint8_t>& bytes) {
  const auto path = dir.file("crafted.atf");
  save_bytes(path, bytes);
  Outcome out;
  out.windows = read_all(path, out.status).size();
  return out;
}

// The header record a file starts with, from this JSON text.
std::string open_error(const TempDir& dir, const std::string& json) {
  auto bytes = valid_start(dir);
  bytes.resize(16);
  append(bytes, 1, {json.begin(), json.end()});
  save_bytes(dir.file("header.atf"), bytes);
  try {
    (void)Reader::open(dir.file("header.atf"));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "opened";
}

}  // namespace

TEST_CASE("open: a preamble that is short, of another version or with a reserved field set is refused", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto path = dir.file("p.atf");
  save_bytes(path, {start.begin(), start.begin() + 10});
  CHECK_THROWS_WITH(Reader::open(path), Catch::EndsWith("too short for an ATF file (10 bytes)"));
  auto edited = start;
  edited[12] = 1;
  save_bytes(path, edited);
  CHECK_THROWS_WITH(Reader::open(path), Catch::EndsWith("reserved preamble field is not zero"));
  edited = start;
  edited[8] = 7;
  save_bytes(path, edited);
  CHECK_THROWS_WITH(Reader::open(path), Catch::EndsWith("unsupported ATF format version 7 (this reader knows 1)"));
}

TEST_CASE("open: the header record must follow the preamble, whole, and be a file header of the same version", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto path = dir.file("h.atf");
  std::vector<std::uint8_t> bytes(start.begin(), start.begin() + 16);
  save_bytes(path, bytes);
  CHECK_THROWS_WITH(Reader::open(path), Catch::EndsWith("no header record after the preamble"));

  auto damaged = start;
  damaged[16 + 8] ^= 0x01;  // the header record's checksum
  save_bytes(path, damaged);
  CHECK_THROWS_WITH(Reader::open(path), Catch::Contains("bad header record: checksum mismatch"));

  append(bytes, 2, window_payload(0, 0));
  save_bytes(path, bytes);
  CHECK_THROWS_WITH(Reader::open(path), Catch::EndsWith("first record has type 2, not a file header"));

  CHECK_THAT(open_error(dir, R"({"format_version":2})"), Catch::EndsWith("header says format version 2, preamble says 1"));
  CHECK_THAT(open_error(dir, R"({"format_version":1)"), Catch::EndsWith("header record is not valid JSON"));
  CHECK(open_error(dir, R"({"format_version":1,"pid":7,"clock_realtime_ns":-5})") == "opened");
}

TEST_CASE("open: each header field of the wrong type or out of range is refused by name", "[atf][validation]") {
  TempDir dir;
  const std::vector<std::pair<const char*, bool>> fields = {
      {"format_version", true}, {"preroll_version", false}, {"host_name", false},       {"boot_id", false},
      {"pid", true},            {"uid", true},             {"process_name", false},    {"command_line", false},
      {"process_start_ns", true}, {"clock_realtime_ns", true}, {"clock_monotonic_ns", true}, {"policy_json", false},
      {"file_sequence", true}};
  for (const auto& [key, integer] : fields) {
    INFO(key);
    const std::string wrong_type = std::string(R"({")") + key + (integer ? R"(":"7"})" : R"(":7})");
    CHECK_THAT(open_error(dir, wrong_type),
               Catch::EndsWith(std::string("header field \"") + key + "\" is not " + (integer ? "an integer" : "a string")));
  }
  // Integers: too large for the field, or negative for an unsigned one.
  CHECK_THAT(open_error(dir, R"({"pid":4294967296})"), Catch::EndsWith("header field \"pid\" is not in range"));
  CHECK_THAT(open_error(dir, R"({"uid":-1})"), Catch::EndsWith("header field \"uid\" is not in range"));
  CHECK_THAT(open_error(dir, R"({"process_start_ns":-1})"),
             Catch::EndsWith("header field \"process_start_ns\" is not in range"));
  CHECK_THAT(open_error(dir, R"({"clock_monotonic_ns":9223372036854775808})"),
             Catch::EndsWith("header field \"clock_monotonic_ns\" is not in range"));
  CHECK_THAT(open_error(dir, R"({"pid":1.5})"), Catch::EndsWith("header field \"pid\" is not an integer"));
}

TEST_CASE("window records: too short, not holding their pattern hits, or with keep reason 0 are bad records", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto check = [&](const std::vector<std::uint8_t>& payload, const std::string& why) {
    auto bytes = start;
    append(bytes, 2, payload);
    const Outcome o = read_bytes(dir, bytes);
    CHECK(o.windows == 0);
    CHECK(o.status.reason == StopReason::bad_record);
    CHECK(o.status.record_offset == start.size());
    CHECK(o.status.detail == why);
  };
  check(std::vector<std::uint8_t>(79, 1), "window record of 79 bytes, expected at least 80");
  auto short_hits = window_payload(0, 1, 1, 2);
  short_hits.resize(short_hits.size() - 8);
  check(short_hits, "window record of 88 bytes cannot hold its 2 pattern hits");
  check(window_payload(0, 1, 0), "window keep reason 0");
}

TEST_CASE("events records: every count and length is checked against the bytes it has", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto check = [&](const std::vector<std::uint8_t>& payload, const std::string& why) {
    auto bytes = start;
    append(bytes, 2, window_payload(0, 2));
    append(bytes, 3, payload);
    const Outcome o = read_bytes(dir, bytes);
    CHECK(o.windows == 0);
    CHECK(o.status.reason == StopReason::bad_record);
    CHECK(o.status.offset == start.size());  // the window's own record: the bytes before are whole
    CHECK(o.status.detail == why);
  };
  check(std::vector<std::uint8_t>(15, 0), "events record of 15 bytes has no batch header");
  check(events_payload(0, 0, 0, {}), "events record claims 0 events in 0 bytes");
  check(events_payload(0, 0, 2, {{"n", "m"}}), "events record claims 2 events in 18 bytes");
  // Two events claimed, room for the first and 6 bytes of the second.
  auto cut = events_payload(0, 0, 2, {{"", "0123456789"}});
  cut.insert(cut.end(), 6, 0);
  check(cut, "events record ends inside event 1");
  auto long_text = events_payload(0, 0, 1, {{"name", "message"}});
  long_text[16 + 11] = 200;  // the name length: past the end of the record
  check(long_text, "event 0 text runs past the end of its record");
  auto stray = events_payload(0, 0, 1, {{"n", "m"}});
  stray.insert(stray.end(), 3, 0xAA);
  check(stray, "3 stray bytes after the last event");
}

TEST_CASE("events records must continue their window: same id, next event, no more than it holds", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto check = [&](const std::vector<std::uint8_t>& payload, const char* why) {
    auto bytes = start;
    append(bytes, 2, window_payload(5, 2));
    append(bytes, 3, events_payload(5, 0, 1, {{"a", "1"}}));
    append(bytes, 3, payload);
    const Outcome o = read_bytes(dir, bytes);
    CHECK(o.windows == 0);
    CHECK(o.status.reason == StopReason::bad_record);
    CHECK(o.status.offset == start.size());
    CHECK_THAT(o.status.detail, Catch::Contains(why));
  };
  check(events_payload(6, 1, 1, {{"b", "2"}}), "events record for window 6 from event 1 (1) does not continue window 5 at event 1 of 2");
  check(events_payload(5, 0, 1, {{"b", "2"}}), "from event 0 (1) does not continue window 5 at event 1");
  check(events_payload(5, 1, 2, {{"b", "2"}, {"c", "3"}}), "from event 1 (2) does not continue window 5 at event 1 of 2");
}

TEST_CASE("the end record: its size and each of its counts must match the file", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  auto one_window = start;
  append(one_window, 2, window_payload(0, 1));
  append(one_window, 3, events_payload(0, 0, 1, {{"n", "m"}}));
  const std::uint64_t end_at = one_window.size();
  const auto check = [&](const std::vector<std::uint8_t>& payload, const std::string& why) {
    auto bytes = one_window;
    append(bytes, 4, payload);
    const Outcome o = read_bytes(dir, bytes);
    CHECK(o.windows == 1);
    CHECK(o.status.reason == StopReason::bad_record);
    CHECK(o.status.offset == end_at);
    CHECK_THAT(o.status.detail, Catch::Contains(why));
  };
  check(std::vector<std::uint8_t>(16, 0), "end record of 16 bytes, expected 24");
  check(end_payload(2, 1, end_at), "end record counts 2 windows");
  check(end_payload(1, 5, end_at), "1 windows, 5 events");
  check(end_payload(1, 1, end_at + 8), "at offset " + std::to_string(end_at + 8));
  auto good = one_window;
  append(good, 4, end_payload(1, 1, end_at));
  const Outcome o = read_bytes(dir, good);
  CHECK(o.windows == 1);
  CHECK(o.status.reason == StopReason::clean_end);
  CHECK(o.status.ok());
}

TEST_CASE("an end record inside a window, and a skippable record inside one, are placed as the reader expects", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  auto bytes = start;
  append(bytes, 2, window_payload(0, 2));
  append(bytes, 3, events_payload(0, 0, 1, {{"n", "m"}}));
  append(bytes, 0x7001, {9, 9}, 0x0002);  // skippable: part of the window
  append(bytes, 3, events_payload(0, 1, 1, {{"o", "p"}}));
  const std::uint64_t window_end = bytes.size();
  append(bytes, 2, window_payload(1, 1));
  append(bytes, 4, end_payload(1, 2, bytes.size()));
  const Outcome o = read_bytes(dir, bytes);
  CHECK(o.windows == 1);
  CHECK(o.status.reason == StopReason::bad_record);
  CHECK(o.status.offset == window_end);
  CHECK_THAT(o.status.detail, Catch::StartsWith("end record inside the window at offset"));
  CHECK(o.status.good_records == 5);  // header, window, events, skippable, events
  CHECK_FALSE(o.status.ok());
}

TEST_CASE("a stopped reader stays stopped and returns empty windows", "[atf][validation]") {
  TempDir dir;
  auto bytes = valid_start(dir);
  append(bytes, 2, window_payload(0, 1, 0));
  save_bytes(dir.file("s.atf"), bytes);
  auto reader = Reader::open(dir.file("s.atf"));
  ReadWindow w;
  w.events.resize(3);
  CHECK_FALSE(reader->next(w));
  CHECK(w.events.empty());
  w.events.resize(3);
  CHECK_FALSE(reader->next(w));
  CHECK(w.events.empty());
  CHECK(reader->status().reason == StopReason::bad_record);
}

TEST_CASE("compressed events: a frame without a content size or with corrupt blocks is a bad record", "[atf][validation]") {
  TempDir dir;
  const auto start = valid_start(dir);
  const auto check = [&](const std::vector<std::uint8_t>& frame, const char* why) {
    auto bytes = start;
    append(bytes, 2, window_payload(0, 1));
    append(bytes, 3, frame, 0x0001);
    const Outcome o = read_bytes(dir, bytes);
    CHECK(o.windows == 0);
    CHECK(o.status.reason == StopReason::bad_record);
    CHECK(o.status.detail == why);
  };
  // Magic; frame header descriptor 0x00 (no content size) and window byte;
  // one last raw block of 5 bytes.
  check({0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00, 0x29, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e'},
        "zstd frame without a content size");
  // Single segment, content size 10, but the raw block holds 5 bytes.
  check({0x28, 0xB5, 0x2F, 0xFD, 0x20, 10, 0x29, 0x00, 0x00, 'a', 'b', 'c', 'd', 'e'},
        "zstd: Data corruption detected");
}

TEST_CASE("a file growing under the reader: a record whose bytes arrive after the size was taken is read", "[atf][validation]") {
  TempDir dir;
  const auto path = dir.file("live.atf");
  const WrittenFile f = write_file(path, {make_window(0, 3), make_window(1, 2)});
  const auto whole = load_bytes(path);
  // At open the file ends 8 bytes into the first window's record header.
  save_bytes(path, {whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(f.header_end + 8)});
  auto reader = Reader::open(path);
  {
    std::ofstream more(path, std::ios::binary | std::ios::app);
    more.write(reinterpret_cast<const char*>(whole.data() + f.header_end + 8),
               static_cast<std::streamsize>(whole.size() - f.header_end - 8));
  }
  ReadWindow w;
  CHECK(reader->next(w));
  CHECK(w.meta.window_id == 0);
  CHECK(reader->next(w));
  CHECK_FALSE(reader->next(w));
  CHECK(reader->status().reason == StopReason::clean_end);
}

TEST_CASE("a file shrinking under the reader: the record it cuts is reported, not read past", "[atf][validation]") {
  TempDir dir;
  const auto path = dir.file("shrink.atf");
  const WrittenFile f = write_file(path, {make_window(0, 3), make_window(1, 200)});
  auto reader = Reader::open(path);  // takes the whole file's size
  ReadWindow w;
  REQUIRE(reader->next(w));
  // Cut inside the second window's events record, after its header.
  fs::resize_file(path, f.window_ends[0] + 200);
  CHECK_FALSE(reader->next(w));
  CHECK(reader->status().reason == StopReason::truncated);
  CHECK(reader->status().offset == f.window_ends[0]);
  CHECK_THAT(reader->status().detail, Catch::Contains("file shrank while reading a record"));
}

TEST_CASE("a device read error throws, naming the file", "[atf][validation]") {
  // /proc/self/mem is a regular file whose first page (address 0) never
  // reads: read(2) fails with EIO.
  struct stat st {};
  REQUIRE(::stat("/proc/self/mem", &st) == 0);
  REQUIRE(S_ISREG(st.st_mode));
  try {
    (void)Reader::open("/proc/self/mem");
    FAIL("reading address 0 succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EIO);
    CHECK_THAT(std::string(e.what()), Catch::StartsWith("/proc/self/mem: read error"));
  }
}

TEST_CASE("names of values this build does not know", "[atf]") {
  CHECK(to_string(static_cast<StopReason>(99)) == "unknown");
  CHECK(to_string(StopReason::none) == "reading");
  CHECK(to_string(StopReason::clean_end) == "clean end");
  CHECK(to_string(StopReason::eof_no_end) == "no end record");
  CHECK(to_string(StopReason::truncated) == "truncated");
  CHECK(to_string(StopReason::bad_checksum) == "bad checksum");
  CHECK(to_string(StopReason::bad_record) == "bad record");
  CHECK(to_string(static_cast<Compression>(7)) == "unknown");
  CHECK(to_string(static_cast<KeepReason>(200)) == "unknown");
}

TEST_CASE("every keep reason has its name", "[atf]") {
  CHECK(to_string(KeepReason::marked) == "marked");
  CHECK(to_string(KeepReason::pre_roll) == "pre-roll");
  CHECK(to_string(KeepReason::post_roll) == "post-roll");
  CHECK(to_string(KeepReason::flush_timeout) == "flush-timeout");
  CHECK(to_string(KeepReason::client_exit) == "client-exit");
  CHECK(to_string(KeepReason::client_crash) == "client-crash");
  CHECK(to_string(KeepReason::manual_snapshot) == "manual-snapshot");
  CHECK(to_string(KeepReason::capture_all) == "capture-all");
  CHECK(to_string(KeepReason::daemon_shutdown) == "daemon-shutdown");
  CHECK(to_string(KeepReason::process_context) == "process-context");
}

TEST_CASE("pattern field values: id + 1, saturating at 65535", "[atf]") {
  CHECK(pattern_field(0) == 1);
  CHECK(pattern_field(65533) == 65534);
  CHECK(pattern_field(65534) == 65535);
  CHECK(pattern_field(std::numeric_limits<std::uint32_t>::max()) == 65535);
}

TEST_CASE("window metadata compares equal only when every field is", "[atf]") {
  const WindowMeta base = make_window(2, 3).meta;
  const std::vector<void (*)(WindowMeta&)> edits = {
      [](WindowMeta& m) { m.window_id += 1; },       [](WindowMeta& m) { m.lane += 1; },
      [](WindowMeta& m) { m.tid += 1; },             [](WindowMeta& m) { m.ring_sequence += 1; },
      [](WindowMeta& m) { m.reason = KeepReason::post_roll; },
      [](WindowMeta& m) { m.start_ns += 1; },        [](WindowMeta& m) { m.end_ns += 1; },
      [](WindowMeta& m) { m.first_marked_ns += 1; }, [](WindowMeta& m) { m.event_count += 1; },
      [](WindowMeta& m) { m.marked_count += 1; },    [](WindowMeta& m) { m.lost_events_before += 1; },
      [](WindowMeta& m) { m.lost_bytes_before += 1; },
      [](WindowMeta& m) { m.patterns[1].pattern_id += 1; },
      [](WindowMeta& m) { m.patterns[1].count += 1; }};
  CHECK(base == make_window(2, 3).meta);
  for (std::size_t i = 0; i < edits.size(); ++i) {
    INFO("field " << i);
    WindowMeta other = base;
    edits[i](other);
    CHECK_FALSE(base == other);
  }
}
