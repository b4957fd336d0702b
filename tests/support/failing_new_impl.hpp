// The definitions behind failing_new.hpp: include in exactly one source file
// of a test executable (it replaces the global operator new and delete).
#pragma once

#include "failing_new.hpp"

#include <cstdlib>
#include <new>

namespace preroll::test {
namespace failing_new_detail {
// -1: disarmed. Otherwise the allocations still to succeed before one fails.
inline std::atomic<long> countdown{-1};
inline std::atomic<bool> sticky{false};
inline std::atomic<bool> fired{false};

// Whether this allocation is to fail.
inline bool fail_now() noexcept {
  if (countdown.load(std::memory_order_relaxed) < 0) return false;
  const long before = countdown.fetch_sub(1, std::memory_order_relaxed);
  if (before > 0) return false;
  if (before < 0) {  // raced with a disarm or past a one-shot failure
    countdown.store(-1, std::memory_order_relaxed);
    return false;
  }
  fired.store(true, std::memory_order_relaxed);
  countdown.store(sticky.load(std::memory_order_relaxed) ? 0 : -1, std::memory_order_relaxed);
  return true;
}

inline void* allocate(std::size_t n) noexcept {
  if (fail_now()) return nullptr;
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace failing_new_detail

FailAllocation::FailAllocation(long nth, bool sticky) noexcept {
  failing_new_detail::fired.store(false, std::memory_order_relaxed);
  failing_new_detail::sticky.store(sticky, std::memory_order_relaxed);
  failing_new_detail::countdown.store(nth, std::memory_order_relaxed);
}
FailAllocation::~FailAllocation() { failing_new_detail::countdown.store(-1, std::memory_order_relaxed); }
bool FailAllocation::fired() const noexcept { return failing_new_detail::fired.load(std::memory_order_relaxed); }

}  // namespace preroll::test

void* operator new(std::size_t n) {
  void* p = preroll::test::failing_new_detail::allocate(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t n) {
  void* p = preroll::test::failing_new_detail::allocate(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return preroll::test::failing_new_detail::allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return preroll::test::failing_new_detail::allocate(n);
}
// Not inlined: where GCC inlines a delete into its caller, it sees free()
// given what `operator new` returned and warns (-Wmismatched-new-delete),
// not knowing that this operator new is malloc.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
