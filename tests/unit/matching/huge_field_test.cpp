// A field over 4 GiB: Hyperscan scans at most 2^32-1 bytes per call, so the
// matcher hands such a field to PCRE2, counted as an engine error, and still
// answers exactly. The field is a private anonymous mapping: its untouched
// pages read as zeros without being allocated.
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <sys/mman.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <string_view>

using namespace preroll::daemon;
using namespace preroll::daemon::test;

TEST_CASE("hyperscan__field_over_4_gib__then_matched_by_pcre2_and_counted") {
  const auto m = make({lit("needle"), lit("n")}, true);
  if (m->engine() != "hyperscan+pcre2") return;  // PCRE2 alone has no such limit
  constexpr std::size_t kSize = (std::size_t{1} << 32) + 4096;
  void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(p != MAP_FAILED);
  char* const base = static_cast<char*>(p);
  std::memcpy(base + kSize - 16, "needle", 6);  // in the last page, past 4 GiB
  const std::string_view with_needle(base, kSize);
  const std::string_view without(base, kSize - 4096);

  auto scratch = m->make_scratch();
  CHECK(m->match_any({"x", with_needle}, *scratch));
  CHECK(scratch->match_errors() == 1);
  CHECK_FALSE(m->match_any({"x", without}, *scratch));
  CHECK(scratch->match_errors() == 2);
  CHECK(m->match_any({"n", without}, *scratch));  // the name alone: no error, Hyperscan stops at its hit
  CHECK(scratch->match_errors() == 2);
  ::munmap(p, kSize);
}
