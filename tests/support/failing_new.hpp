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

}  // namespace preroll::test

