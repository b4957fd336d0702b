// "No allocation after attach": once a thread has its lane, emitting (ring
// swaps and overwrites included) never calls malloc. Counted by interposing
// malloc/calloc/realloc for this test executable (glibc exports the real
// ones as __libc_*), only on the measuring thread.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "preroll/preroll.h"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace {
thread_local bool t_counting = false;
thread_local std::size_t t_allocations = 0;
}  // namespace

extern "C" void* malloc(std::size_t n) {
  if (t_counting) ++t_allocations;
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
  if (t_counting) ++t_allocations;
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
  if (t_counting) ++t_allocations;
  return __libc_realloc(p, n);
}

TEST_CASE("a million emits after the first allocate nothing, ring swaps and overwrites included") {
  ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
  preroll_emit(PREROLL_INFO, "alloc", "first event attaches and claims the lane");
  const std::string msg(40, 'm');
  t_allocations = 0;
  // Sanity: the interposer sees this thread's allocations.
  t_counting = true;
  void* probe = std::malloc(16);
  t_counting = false;
  std::free(probe);
  REQUIRE(t_allocations == 1);

  t_allocations = 0;
  t_counting = true;
  for (int i = 0; i < 1'000'000; ++i) preroll_emit(PREROLL_INFO, "alloc", msg.c_str());
  preroll_mark("alloc", "marked");
  preroll_flush();
  t_counting = false;
  CHECK(t_allocations == 0);
  preroll_counters c{};
  preroll_get_counters(&c);
  CHECK(c.ring_swaps + c.swaps_without_spare > 100);  // the loop did swap rings
}
