#include "lane_writer.hpp"

#include "daemon_link.hpp"

#include <cstring>

namespace preroll::client {

namespace {
// Adds to a counter that only this thread writes: a relaxed load and store,
// no read-modify-write needed. Readers (daemon, preroll_get_counters) treat
// the values as statistics.
void bump(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
}  // namespace

void LaneWriter::init(const shm::SegmentRef& seg, std::uint32_t lane, DaemonLink* link) noexcept {
  seg_ = seg;
  lane_ = lane;
  link_ = link;
  lane_ctl_ = &seg.lane(lane);
  ring_size_ = seg.layout().geometry.ring_size;
  max_message_ = seg.layout().geometry.max_message_size;
  rings_per_lane_ = seg.layout().geometry.rings_per_lane;
  use_tsc_ = seg.header().clock_source == static_cast<std::uint32_t>(shm::ClockSource::tsc);
}

bool LaneWriter::start(std::uint32_t tid, std::uint32_t generation) noexcept {
  // The claim CAS (acq_rel) made the daemon's last writes to both queues
  // visible; our endpoints take their positions from the segment.
  submit_ = Producer(&lane_ctl_->submit_queue);
  free_ = Consumer(&lane_ctl_->free_queue);
  lane_ctl_->tid.store(tid, std::memory_order_relaxed);
  lane_ctl_->claim_generation.store(generation, std::memory_order_relaxed);
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  lane_ctl_->claimed_at_ns.store(static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec,
                                 std::memory_order_relaxed);
  busy_ = 0;
  std::uint32_t ring = 0;
  if (free_.try_pop(ring) != shm::QueueStatus::ok || ring >= rings_per_lane_) return false;
  activate(ring);
  return true;
}

void LaneWriter::activate(std::uint32_t ring) noexcept {
  // Edge FREE -> ACTIVE [client]: we popped it from the free queue.
  active_ring_ = ring;
  ring_hdr_ = &seg_.ring_header(lane_, ring);
  data_ = seg_.ring_data(lane_, ring);
  ring_hdr_->state.store(static_cast<std::uint32_t>(shm::RingState::active), std::memory_order_relaxed);
  // Seqlock write side: bump generation, then a release fence, before any
  // byte below the old `committed` is rewritten; a daemon copying the ring
  // concurrently sees the generation change and drops its copy.
  ring_hdr_->generation.store(ring_hdr_->generation.load(std::memory_order_relaxed) + 1,
                              std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  ring_hdr_->committed.store(0, std::memory_order_relaxed);
  ring_hdr_->sequence.store(next_sequence_++, std::memory_order_relaxed);
  ring_hdr_->overwritten_events.store(0, std::memory_order_relaxed);
  ring_hdr_->overwritten_bytes.store(0, std::memory_order_relaxed);
  ring_hdr_->start.store(0, std::memory_order_relaxed);
  ring_hdr_->wrap_end.store(0, std::memory_order_relaxed);
  pos_ = 0;
  limit_ = ring_size_;
  wrapped_ = false;
  start_ = 0;
  wrap_end_ = 0;
  // release: a daemon that reads active_ring with acquire sees the reset above.
  lane_ctl_->active_ring.store(ring, std::memory_order_release);
}

void LaneWriter::overwrite_oldest(std::uint32_t size) noexcept {
  // Edge ACTIVE -> ACTIVE [client]: no spare ring. Keep the most recent
  // events: write on from offset 0 and evict the oldest records ahead of the
  // write position. Evict an eighth of the ring at a time so a lane that
  // stays overloaded does not come here for every record.
  std::uint64_t evicted_events = 0, evicted_bytes = 0;
  // Seqlock write side: bytes a salvage reader may be copying are about to
  // be rewritten (see RingHeader::generation).
  ring_hdr_->generation.store(ring_hdr_->generation.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  if (!wrapped_) bump(lane_ctl_->swaps_without_spare, 1);
  const std::uint32_t want = size + ring_size_ / 8;
  for (;;) {
    if (!wrapped_) {
      if (pos_ + size <= ring_size_) break;
      // Wrap: the records so far become the older part [0, pos_).
      wrapped_ = true;
      start_ = 0;
      wrap_end_ = pos_;
      pos_ = 0;
    }
    if (pos_ + want <= start_) break;
    if (start_ >= wrap_end_) {
      // The older part is used up: the ring is [0, pos_) again, unwrapped.
      wrapped_ = false;
      start_ = 0;
      wrap_end_ = 0;
      continue;
    }
    // Evict the record at start_. The lane's own records: trusted.
    shm::EventRecordHeader h;
    std::memcpy(&h, data_ + start_, sizeof h);
    const std::uint32_t rsize = shm::record_size(h.name_len, h.message_len);
    start_ += rsize;
    ++evicted_events;
    evicted_bytes += rsize;
  }
  limit_ = wrapped_ ? start_ : ring_size_;
  publish_counters();
  bump(lane_ctl_->events_overwritten, evicted_events);
  bump(lane_ctl_->bytes_overwritten, evicted_bytes);
  ring_hdr_->overwritten_events.store(ring_hdr_->overwritten_events.load(std::memory_order_relaxed) + evicted_events,
                                      std::memory_order_relaxed);
  ring_hdr_->overwritten_bytes.store(ring_hdr_->overwritten_bytes.load(std::memory_order_relaxed) + evicted_bytes,
                                     std::memory_order_relaxed);
  ring_hdr_->start.store(start_, std::memory_order_relaxed);
  ring_hdr_->wrap_end.store(wrap_end_, std::memory_order_relaxed);
  ring_hdr_->committed.store(pos_, std::memory_order_release);
}

void LaneWriter::publish_counters() noexcept {
  bump(lane_ctl_->events_written, events_since_publish_);
  bump(lane_ctl_->bytes_written, bytes_since_publish_);
  events_since_publish_ = 0;
  bytes_since_publish_ = 0;
  if (truncated_since_swap_ != 0) {
    bump(lane_ctl_->events_truncated, truncated_since_swap_);
    truncated_since_swap_ = 0;
  }
}

bool LaneWriter::submit_active() noexcept {
  // Edge ACTIVE -> SUBMITTED [client]: state first, then the push, whose
  // release publishes the ring's bytes, committed and header to the daemon.
  publish_counters();
  ring_hdr_->state.store(static_cast<std::uint32_t>(shm::RingState::submitted), std::memory_order_relaxed);
  if (submit_.try_push(active_ring_) != shm::QueueStatus::ok) {
    // Cannot happen on a well-formed segment (capacity >= rings per lane);
    // keep the ring and let the caller overwrite it.
    ring_hdr_->state.store(static_cast<std::uint32_t>(shm::RingState::active), std::memory_order_relaxed);
    return false;
  }
  bump(lane_ctl_->ring_swaps, 1);
  return true;
}

bool LaneWriter::swap_to_spare() noexcept {
  std::uint32_t spare = 0;
  const shm::QueueStatus st = free_.try_pop(spare);
  if (st != shm::QueueStatus::ok || spare >= rings_per_lane_) return false;  // none, or a corrupt free queue
  if (!submit_active()) {
    // Cannot happen on a well-formed segment; the popped spare is lost to
    // this lane (the daemon finds it FREE-but-unqueued only after a restart).
    return false;
  }
  activate(spare);
  ring_doorbell();
  return true;
}

void LaneWriter::ring_doorbell() noexcept {
  if (link_ == nullptr) return;
  // Pairs with the daemon's fence after it arms (abi.hpp, doorbell_armed):
  // either it sees the ring we just submitted, or we see it armed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto& armed = seg_.header().doorbell_armed;
  if (armed.load(std::memory_order_relaxed) != 0 && armed.exchange(0, std::memory_order_relaxed) != 0) {
    link_->doorbell(lane_);
  } else {
    // Not armed: the daemon is busy with us, or it died before re-arming.
    // At most once a second ring anyway: a daemon that is gone is noticed
    // (the send fails) and retried, and a lost arming cannot stall us.
    link_->doorbell_if_quiet(lane_);
  }
}

void LaneWriter::make_room(std::uint32_t size) noexcept {
  if (swap_to_spare()) return;
  // No spare (daemon slow or absent): overwrite the oldest events. At most
  // once a second, ring anyway: a live daemon gets nudged, a dead one is
  // noticed by the failing send, and a lost one is reconnected.
  overwrite_oldest(size);
  if (link_ != nullptr) link_->doorbell_if_quiet(lane_);
}

void LaneWriter::flush() noexcept {
  if (busy_ != 0 || active_ring_ == shm::kNoActiveRing || pos_ == 0) return;
  busy_ = 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  // Without a spare ring the partial ring stays active: it is handed over
  // at the next swap, or salvaged by the daemon at exit. Its events are
  // counted now either way, so counters read after a flush are whole.
  if (!swap_to_spare()) publish_counters();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  busy_ = 0;
}

void LaneWriter::release() noexcept {
  if (active_ring_ != shm::kNoActiveRing) {
    busy_ = 1;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    // The last ring goes to the daemon even when empty: the daemon returns
    // every ring to the free queue before it frees the lane.
    submit_active();
    lane_ctl_->active_ring.store(shm::kNoActiveRing, std::memory_order_release);
    active_ring_ = shm::kNoActiveRing;
    ring_hdr_ = nullptr;
    data_ = nullptr;
  }
}

void LaneWriter::retire() noexcept {
  // Read before the store: once the lane is RETIRED the daemon may free it
  // and another thread's claim may rewrite this object (start()); a write
  // here after the store would race with that (ThreadSanitizer found the
  // `busy_ = 0` that used to follow it).
  shm::LaneControl* const ctl = lane_ctl_;
  DaemonLink* const link = link_;
  const std::uint32_t lane = lane_;
  // Edge ACTIVE -> RETIRED [client]: release publishes the last submit.
  ctl->state.store(static_cast<std::uint32_t>(shm::LaneState::retired), std::memory_order_release);
  if (link != nullptr) link->doorbell(lane);
}

void LaneWriter::count_nested_drop() noexcept { bump(lane_ctl_->events_dropped_nested, 1); }

}  // namespace preroll::client
