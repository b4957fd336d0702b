// The writer side of one lane: the emit hot path (inline, here) and the cold
// ring swap, claim and release (lane_writer.cpp).
//
// A LaneWriter lives in the client process's private memory, one per lane
// of the segment, and is used by exactly one thread at a time: the thread
// that claimed the lane. It caches everything the hot path needs so an emit
// touches only the ring bytes and the ring's `committed` word in the segment.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/event_record.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/tsc.hpp"

namespace preroll::client {

class DaemonLink;

class LaneWriter {
 public:
  using Producer = shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane>;
  using Consumer = shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane>;

  void init(const shm::SegmentRef& seg, std::uint32_t lane, DaemonLink* link) noexcept;

  // Cold: takes the lane for the calling thread (the caller won the CAS
  // free->active) and activates a spare ring. False if the free queue held
  // no valid ring (the lane is then released again).
  bool start(std::uint32_t tid, std::uint32_t generation) noexcept;

  // Hot path. Clamped lengths; flags may include client_marked.
  void emit(std::uint8_t level, std::uint8_t flags, const char* name, std::uint32_t name_len, const char* msg,
            std::uint32_t msg_len) noexcept {
    // Signal safety: a handler interrupting this thread mid-emit sees busy_
    // set and drops its event (counted) instead of corrupting the ring.
    if (busy_ != 0) {
      count_nested_drop();
      return;
    }
    busy_ = 1;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // busy_ visible to a handler on this thread

    if (msg_len > max_message_) {
      msg_len = max_message_;
      flags |= shm::event_flag::truncated;
      ++truncated_since_swap_;
    }
    if (name_len > shm::kMaxNameLen) name_len = shm::kMaxNameLen;
    const std::uint32_t size = shm::record_size(name_len, msg_len);
    if (pos_ + size > limit_) make_room(size);

    const std::uint64_t now = timestamp();
    shm::write_record(data_ + pos_, now, level, flags, name, static_cast<std::uint8_t>(name_len), msg,
                      static_cast<std::uint16_t>(msg_len));
    pos_ += size;
    ++events_since_publish_;
    bytes_since_publish_ += size;
    // release: the record bytes above happen-before any reader that loads
    // `committed` with acquire (daemon flush/salvage of the active ring).
    ring_hdr_->committed.store(pos_, std::memory_order_release);

    std::atomic_signal_fence(std::memory_order_seq_cst);
    busy_ = 0;
  }

  // Cold: hands the active ring over now if it holds events (flush).
  void flush() noexcept;
  // Cold, thread exit, in this order: release() hands the last ring over
  // (busy_ stays set: a signal handler's emit is dropped and counted); the
  // caller then unhooks the writer from the thread; retire() gives the lane
  // back. After retire() the lane may be claimed by another thread at once,
  // which re-initialises this object: retire() is the last touch.
  void release() noexcept;
  void retire() noexcept;

  [[nodiscard]] std::uint32_t lane() const noexcept { return lane_; }

 private:
  // Raw TSC when the segment says so (a few ns), else CLOCK_MONOTONIC via
  // the vDSO (no system call, but several times slower). The branch is on a
  // per-process constant and predicted.
  [[nodiscard]] std::uint64_t timestamp() const noexcept {
    if (use_tsc_) return shm::read_tsc();
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  }

  // Cold: the next record does not fit below limit_. Hands the ring over if
  // a spare exists, else wraps and evicts the oldest records (counted).
  void make_room(std::uint32_t size) noexcept;
  bool swap_to_spare() noexcept;
  // One doorbell per arming by the daemon: none while it is draining anyway.
  void ring_doorbell() noexcept;
  void overwrite_oldest(std::uint32_t size) noexcept;
  void activate(std::uint32_t ring) noexcept;
  void publish_counters() noexcept;
  void count_nested_drop() noexcept;
  bool submit_active() noexcept;

  // Hot fields first (one cache line).
  unsigned char* data_ = nullptr;         // active ring bytes
  shm::RingHeader* ring_hdr_ = nullptr;   // active ring header
  std::uint32_t pos_ = 0;                 // == committed of the active ring
  std::uint32_t limit_ = 0;               // records fit below it: ring_size_, or start_ when wrapped
  std::uint32_t ring_size_ = 0;
  std::uint32_t max_message_ = 0;
  std::uint32_t events_since_publish_ = 0;  // published to the lane counters at hand-over
  std::uint64_t bytes_since_publish_ = 0;
  volatile std::uint32_t busy_ = 0;       // nesting guard (signal handlers)
  bool use_tsc_ = false;                  // SegmentHeader::clock_source == tsc
  std::uint32_t active_ring_ = shm::kNoActiveRing;
  // Wrapped state of the active ring (mirrors RingHeader start/wrap_end).
  bool wrapped_ = false;
  std::uint32_t start_ = 0;
  std::uint32_t wrap_end_ = 0;

  // Cold state.
  shm::SegmentRef seg_;
  shm::LaneControl* lane_ctl_ = nullptr;
  DaemonLink* link_ = nullptr;
  std::uint32_t lane_ = 0;
  std::uint32_t rings_per_lane_ = 0;
  std::uint64_t next_sequence_ = 0;
  Producer submit_;
  Consumer free_;
  // Truncations counted privately and published to the lane's shared
  // counters with the ring's events at each hand-over.
  std::uint64_t truncated_since_swap_ = 0;
};

}  // namespace preroll::client
