// A writer killed at any byte: the reader returns exactly the windows that
// were complete before the cut and says where the whole part ends.
#include "atf_test_support.hpp"

using namespace atf_test;

namespace {

std::vector<SampleWindow> small_windows() {
  // A window with several events, one with none, one with one.
  return {make_window(0, 4), make_window(1, 0), make_window(2, 1)};
}

}  // namespace

TEST_CASE("truncation at every byte: only complete windows are returned", "[atf][truncation]") {
  TempDir dir;
  const auto original = dir.file("whole.atf");
  const auto windows = small_windows();
  const Compression compression = GENERATE(Compression::none, Compression::zstd);
  INFO("compression " << to_string(compression));
  const WrittenFile file = write_file(original, windows, {compression});
  const auto bytes = load_bytes(original);
  REQUIRE(bytes.size() == file.size);

  const auto cut_path = dir.file("cut.atf");
  for (std::uint64_t cut = 0; cut <= bytes.size(); ++cut) {
    INFO("cut at byte " << cut << " of " << bytes.size());
    save_bytes(cut_path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});

    if (cut < file.header_end) {
      CHECK_THROWS_AS(Reader::open(cut_path), std::runtime_error);
      continue;
    }
    ReadStatus status;
    const auto got = read_all(cut_path, status);

    // Whole windows before the cut, and where the whole part ends.
    std::size_t whole = 0;
    std::uint64_t whole_end = file.header_end;
    while (whole < file.window_ends.size() && file.window_ends[whole] <= cut) whole_end = file.window_ends[whole++];

    REQUIRE(got.size() == whole);
    for (std::size_t i = 0; i < whole; ++i) check_window(got[i], windows[i]);
    CHECK(status.windows == whole);

    if (cut == bytes.size()) {
      CHECK(status.reason == StopReason::clean_end);
      CHECK(status.offset == cut);
    } else if (cut == whole_end) {
      CHECK(status.reason == StopReason::eof_no_end);
      CHECK(status.offset == cut);
    } else {
      CHECK(status.reason == StopReason::truncated);
      CHECK(status.offset == whole_end);
      CHECK(status.record_offset >= whole_end);
      CHECK(status.record_offset <= cut);  // == when the cut falls between two records of a window
      CHECK_FALSE(status.detail.empty());
    }
    CHECK_FALSE(status.ok() == (status.reason == StopReason::truncated));
  }
}

TEST_CASE("a file cut inside its preamble or header names the file in the error", "[atf][truncation]") {
  TempDir dir;
  const auto path = dir.file("short.atf");
  const WrittenFile file = write_file(path, {});
  const auto bytes = load_bytes(path);
  for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{16}, file.header_end - 1}) {
    save_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    try {
      Reader::open(path);
      FAIL("open accepted a file cut at " << cut);
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(path.string()));
    }
  }
}

TEST_CASE("after the cut is repaired by truncating at status.offset the file reads cleanly", "[atf][truncation]") {
  TempDir dir;
  const auto path = dir.file("repair.atf");
  const WrittenFile file = write_file(path, small_windows());
  std::filesystem::resize_file(path, file.window_ends[0] + 21);  // inside window 1's record

  ReadStatus status;
  CHECK(read_all(path, status).size() == 1);
  REQUIRE(status.reason == StopReason::truncated);
  std::filesystem::resize_file(path, status.offset);
  CHECK(read_all(path, status).size() == 1);
  CHECK(status.reason == StopReason::eof_no_end);
}
