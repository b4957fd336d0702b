// The C API's event functions and the per-thread lane pointer they use.
//
// The hot path is `t_lane` (a plain thread_local pointer: no TLS wrapper, no
// guard) and LaneWriter::emit, inlined here. Everything else — first use,
// claiming a lane, thread exit — is out of line.
#include <cstring>

#include "preroll/preroll.h"
#include "runtime.hpp"

namespace preroll::client {

namespace {

// The calling thread's lane, or nullptr before its first event.
thread_local LaneWriter* t_lane = nullptr;
// Set while this thread is inside the cold claim path: an event from a signal
// handler arriving then is dropped instead of re-entering it.
thread_local bool t_claiming = false;
// Retries left before a thread that found no free lane tries again.
thread_local std::uint32_t t_no_lane_backoff = 0;
constexpr std::uint32_t kNoLaneRetryEvery = 1024;

// Retires the thread's lane when the thread exits. Armed when the lane is
// claimed (its first use registers the destructor with the C++ runtime).
struct LaneReleaser {
  LaneWriter* writer = nullptr;
  std::uint64_t epoch = 0;
  ~LaneReleaser() {
    Runtime* rt = Runtime::peek();
    // After fork() the child's copy of this object names the parent's lane:
    // the epoch tells, and the lane is left alone.
    if (writer != nullptr && rt != nullptr && rt->epoch() == epoch) {
      t_claiming = true;  // a signal handler's emit meanwhile claims no lane (counted as no_lane)
      writer->release();  // busy_ stays set: a handler's emit until here counts as nested
      t_lane = nullptr;   // unhooked before the lane can change hands
      std::atomic_signal_fence(std::memory_order_seq_cst);
      writer->retire();
      // Emits after this (exit()'s static destructors on the main thread)
      // claim a fresh lane, as before the first event.
      t_claiming = false;
    }
    writer = nullptr;
    t_lane = nullptr;
  }
};
thread_local LaneReleaser t_releaser;

}  // namespace

LaneWriter* claim_lane_for_this_thread() noexcept {
  if (t_claiming) return nullptr;
  if (t_no_lane_backoff != 0) {
    --t_no_lane_backoff;
    return nullptr;
  }
  t_claiming = true;
  LaneWriter* w = nullptr;
  if (Runtime* rt = Runtime::get()) {
    w = rt->claim_lane();
    if (w != nullptr) {
      t_releaser.writer = w;
      t_releaser.epoch = rt->epoch();
      t_lane = w;
    } else {
      t_no_lane_backoff = kNoLaneRetryEvery;
    }
  }
  t_claiming = false;
  return w;
}

void forget_thread_lane() noexcept {
  t_lane = nullptr;
  t_releaser.writer = nullptr;
}

LaneWriter* this_thread_lane() noexcept { return t_lane; }

namespace {

inline std::uint8_t clamp_level(int level) noexcept {
  if (level < 0) return 0;
  if (level > shm::kMaxLevel) return shm::kMaxLevel;
  return static_cast<std::uint8_t>(level);
}

inline void emit(int level, std::uint8_t flags, const char* name, std::size_t name_len, const char* msg,
                 std::size_t msg_len) noexcept {
  LaneWriter* w = t_lane;
  if (__builtin_expect(w == nullptr, 0)) {
    w = claim_lane_for_this_thread();
    if (w == nullptr) {
      if (Runtime* rt = Runtime::peek()) {
        // A segment exists: the loss is "no lane" (shared counter).
        rt->segment().header().events_dropped_no_lane.fetch_add(1, std::memory_order_relaxed);
        rt->segment().header().bytes_dropped_no_lane.fetch_add(msg_len, std::memory_order_relaxed);
      } else {
        count_dropped_disabled();
      }
      return;
    }
  }
  const std::uint32_t nl = name_len > shm::kMaxNameLen ? shm::kMaxNameLen : static_cast<std::uint32_t>(name_len);
  const std::uint32_t ml = msg_len > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(msg_len);
  w->emit(clamp_level(level), flags, name, nl, msg, ml);
}

}  // namespace
}  // namespace preroll::client

using preroll::client::emit;
namespace flag = preroll::shm::event_flag;

extern "C" {

void preroll_emit(int level, const char* name, const char* message) {
  emit(level, 0, name, name ? std::strlen(name) : 0, message, message ? std::strlen(message) : 0);
}

void preroll_emit_n(int level, const char* name, std::size_t name_len, const char* message,
                    std::size_t message_len) {
  emit(level, 0, name, name ? name_len : 0, message, message ? message_len : 0);
}

void preroll_mark(const char* name, const char* message) {
  emit(PREROLL_INFO, flag::client_marked, name, name ? std::strlen(name) : 0, message,
       message ? std::strlen(message) : 0);
}

void preroll_mark_n(int level, const char* name, std::size_t name_len, const char* message,
                    std::size_t message_len) {
  emit(level, flag::client_marked, name, name ? name_len : 0, message, message ? message_len : 0);
}

void preroll_flush(void) {
  if (preroll::client::LaneWriter* w = preroll::client::this_thread_lane()) w->flush();
}

}  // extern "C"
