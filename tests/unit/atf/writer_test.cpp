// Writer behaviour: file creation rules, the end record, argument checks and
// rolling back a failed append.
#include "atf_test_support.hpp"

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace atf_test;

TEST_CASE("writer refuses an existing file and leaves it untouched", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("exists.atf");
  save_bytes(path, {'k', 'e', 'e', 'p'});
  try {
    Writer::create(path, sample_header());
    FAIL("create overwrote an existing file");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::file_exists);
    CHECK_THAT(e.what(), Catch::Contains(path.string()));
  }
  CHECK(load_bytes(path) == std::vector<std::uint8_t>{'k', 'e', 'e', 'p'});
}

TEST_CASE("writer creates the file with mode 0640 less the umask", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("mode.atf");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  Writer::create(path, sample_header())->close();
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0640 & ~mask));
}

TEST_CASE("close writes the end record for a clean end, a file without it reads as eof_no_end", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("end.atf");
  const WrittenFile file = write_file(path, {make_window(0, 3), make_window(1, 1)});

  ReadStatus status;
  CHECK(read_all(path, status).size() == 2);
  CHECK(status.reason == StopReason::clean_end);
  CHECK(status.ok());
  CHECK(status.offset == file.size);
  CHECK(status.good_records == 1 + 2 * 2 + 1);

  std::filesystem::resize_file(path, last_window_end(file));
  CHECK(read_all(path, status).size() == 2);
  CHECK(status.reason == StopReason::eof_no_end);
  CHECK(status.ok());
  CHECK(status.offset == last_window_end(file));
}

TEST_CASE("destructor closes with an end record, close is idempotent", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("dtor.atf");
  {
    auto writer = Writer::create(path, sample_header());
    const auto w = make_window(0, 2);
    writer->append_window(w.meta, w.views());
    writer->sync();
  }
  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::clean_end);

  const auto again = dir.file("twice.atf");
  auto writer = Writer::create(again, sample_header());
  writer->close();
  const auto size = std::filesystem::file_size(again);
  writer->close();
  CHECK(std::filesystem::file_size(again) == size);
  const auto w = make_window(0, 1);
  CHECK_THROWS_AS(writer->append_window(w.meta, w.views()), std::system_error);
}

TEST_CASE("counters follow the file: bytes_written, windows_written, appended size", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("counters.atf");
  auto writer = Writer::create(path, sample_header());
  CHECK(writer->path() == path);
  CHECK(writer->bytes_written() == std::filesystem::file_size(path));
  const auto w = make_window(0, 5);
  const std::uint64_t before = writer->bytes_written();
  const std::uint64_t appended = writer->append_window(w.meta, w.views());
  CHECK(appended % 8 == 0);
  CHECK(writer->bytes_written() == before + appended);
  CHECK(writer->bytes_written() == std::filesystem::file_size(path));
  CHECK(writer->windows_written() == 1);
}

TEST_CASE("arguments that cannot be encoded throw before anything is written", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("invalid.atf");
  auto writer = Writer::create(path, sample_header());
  const std::uint64_t size = writer->bytes_written();
  auto w = make_window(0, 2);

  SECTION("event_count does not match") { w.meta.event_count = 3; }
  SECTION("name over 255 bytes") { w.events[1].name.assign(256, 'n'); }
  SECTION("message over 65535 bytes") { w.events[0].message.assign(65536, 'm'); }

  try {
    writer->append_window(w.meta, w.views());
    FAIL("append accepted an invalid window");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains(path.string()));
  }
  CHECK(writer->bytes_written() == size);
  CHECK(std::filesystem::file_size(path) == size);
  CHECK(writer->windows_written() == 0);
}

TEST_CASE("a failed append is truncated away and later appends still read", "[atf][writer]") {
  TempDir dir;
  const auto path = dir.file("full.atf");
  auto writer = Writer::create(path, sample_header());
  const auto first = make_window(0, 3);
  writer->append_window(first.meta, first.views());
  const std::uint64_t good = writer->bytes_written();

  // RLIMIT_FSIZE makes write(2) short, then fail with EFBIG, just past `good`.
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = good + 100;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  SampleWindow big = make_window(1, 0);
  for (int i = 0; i < 20; ++i) big.events.push_back({static_cast<std::uint64_t>(i), 2, 0, 0, "n", std::string(50, 'x')});
  big.meta.event_count = 20;
  bool threw = false;
  try {
    writer->append_window(big.meta, big.views());
  } catch (const std::system_error& e) {
    threw = true;
    CHECK(e.code().value() == EFBIG);
    CHECK_THAT(e.what(), Catch::Contains(path.string()));
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  REQUIRE(threw);

  CHECK(std::filesystem::file_size(path) == good);
  CHECK(writer->bytes_written() == good);
  CHECK(writer->windows_written() == 1);

  writer->append_window(big.meta, big.views());
  writer->close();
  ReadStatus status;
  const auto got = read_all(path, status);
  REQUIRE(got.size() == 2);
  check_window(got[0], first);
  check_window(got[1], big);
  CHECK(status.reason == StopReason::clean_end);
}
