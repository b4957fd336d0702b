// Hyperscan's own allocator hooks, to make its compiler and its scratch
// allocation fail as they would out of memory. Hyperscan is a private
// dependency of preroll_matching and a build may lack it: the hooks are
// declared weak, so they are null when libhs is not linked, and available()
// says whether a test can use them.
#pragma once

#if __has_include(<hs/hs.h>)
#include <hs/hs.h>
#pragma weak hs_set_database_allocator
#pragma weak hs_set_scratch_allocator
#define PREROLL_TEST_HS_HOOKS 1
#endif

#include <atomic>
#include <cstddef>
#include <cstdlib>

namespace preroll::daemon::test {

#ifdef PREROLL_TEST_HS_HOOKS
namespace hs_hooks_detail {
inline std::atomic<int> allocations_left{0};
inline std::atomic<bool> misalign{false};
alignas(64) inline unsigned char misaligned_block[1 << 20];

// Succeeds allocations_left times, then fails: null, or (misalign) a block
// off Hyperscan's required alignment, which it reports as HS_BAD_ALLOC.
inline void* allocate(std::size_t n) {
  if (allocations_left.fetch_sub(1) > 0) return std::malloc(n);
  if (misalign && n < sizeof misaligned_block) return misaligned_block + 1;
  return nullptr;
}
inline void release(void* p) {
  if (p != static_cast<void*>(misaligned_block + 1)) std::free(p);
}
}  // namespace hs_hooks_detail

// Whether the hooks can be used (the build has Hyperscan).
inline bool hs_hooks_available() { return &hs_set_database_allocator != nullptr; }

// While alive, Hyperscan's database (or scratch) allocations succeed
// `succeed` times, then fail. Restores malloc/free when done.
class FailHyperscanAllocation {
 public:
  enum class Kind { database, scratch };
  FailHyperscanAllocation(Kind kind, int succeed, bool misalign = false) : kind_(kind) {
    hs_hooks_detail::allocations_left = succeed;
    hs_hooks_detail::misalign = misalign;
    if (kind_ == Kind::database) hs_set_database_allocator(hs_hooks_detail::allocate, hs_hooks_detail::release);
    else hs_set_scratch_allocator(hs_hooks_detail::allocate, hs_hooks_detail::release);
  }
  ~FailHyperscanAllocation() {
    if (kind_ == Kind::database) hs_set_database_allocator(nullptr, nullptr);
    else hs_set_scratch_allocator(nullptr, nullptr);
  }
  FailHyperscanAllocation(const FailHyperscanAllocation&) = delete;
  FailHyperscanAllocation& operator=(const FailHyperscanAllocation&) = delete;

 private:
  Kind kind_;
};
#else
inline bool hs_hooks_available() { return false; }
#endif

}  // namespace preroll::daemon::test
