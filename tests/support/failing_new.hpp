// Out-of-memory on demand, for the tests of what code does when an
// allocation throws std::bad_alloc. Exactly one source file of a test
// executable also includes failing_new_impl.hpp: it replaces the global
// operator new and delete (the plain and the nothrow forms; the aligned ones
// stay the library's) with malloc and free that fail when told to.
// Disarmed, they are plain malloc and free, so the sanitizers still see
// every allocation.
//
//   {
//     FailAllocation oom(2);   // the third allocation from now fails
//     code_under_test();       // nothing else may allocate in between
//   }
//   CHECK(oom.fired());
#pragma once

#include <atomic>
#include <cstddef>
#include <new>

namespace preroll::test {

class FailAllocation {
 public:
  // Allocation number `nth` from now (0: the next one) fails; with `sticky`
  // every later one fails too, until the guard goes out of scope.
  explicit FailAllocation(long nth, bool sticky = false) noexcept;
  ~FailAllocation();
  FailAllocation(const FailAllocation&) = delete;
  FailAllocation& operator=(const FailAllocation&) = delete;
  // Whether an allocation failed while armed.
  [[nodiscard]] bool fired() const noexcept;
};

struct FailedAllocationRun {
  bool fired = false;            // an allocation failed
  bool threw_bad_alloc = false;  // and `f` let std::bad_alloc out
};

// Runs `f` with allocation number `nth` failing (with `sticky`, every later
// one too). Exceptions other than std::bad_alloc go through.
template <typename F>
FailedAllocationRun run_with_failing_allocation(long nth, bool sticky, F&& f) {
  FailedAllocationRun r;
  try {
    FailAllocation oom(nth, sticky);
    try {
      f();
    } catch (...) {
      r.fired = oom.fired();
      throw;
    }
    r.fired = oom.fired();
  } catch (const std::bad_alloc&) {
    r.threw_bad_alloc = true;
  }
  return r;
}

// How many allocations `f` makes (the same ones each run), by bisection on
// the number of the one that fails: the first number that `f` never reaches.
template <typename F>
long count_allocations(bool sticky, F&& f) {
  long reached = 0, total = 64;
  while (run_with_failing_allocation(total, sticky, f).fired) {
    reached = total;
    total *= 2;
  }
  while (reached + 1 < total) {
    const long mid = (reached + total) / 2;
    (run_with_failing_allocation(mid, sticky, f).fired ? reached : total) = mid;
  }
  return total;
}

}  // namespace preroll::test

