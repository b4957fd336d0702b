#include "client_segment.hpp"

#include <chrono>

#include "tsc_clock.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace preroll::daemon {

namespace {
constexpr std::uint32_t kMaxCorruptRingReports = 10;  // per client, then silent (still counted)
}

ClientSegment::ClientSegment(shm::MappedSegment mapping, shm::HeaderSnapshot header, std::uint32_t pid)
    : mapping_(std::move(mapping)), header_(std::move(header)), pid_(pid), seg_(mapping_.data(), header_.layout) {
  const auto& g = header_.layout.geometry;
  lanes_.resize(g.lane_count);
  for (std::uint32_t l = 0; l < g.lane_count; ++l) {
    shm::LaneControl& lc = seg_.lane(l);
    // Our endpoints start from the positions in the segment: the client's
    // initial fill, or a previous daemon's last state after a restart.
    lanes_[l].submit = SubmitConsumer(&lc.submit_queue);
    lanes_[l].free = FreeProducer(&lc.free_queue);
    // Our mirror of the free queue starts as the segment has it (the
    // client's initial fill, or a previous daemon's pushes): positions
    // [head, tail) hold rings the client has not taken yet. Untrusted values,
    // only ever compared with (check_submitted).
    LaneState& ls = lanes_[l];
    ls.free_tail = lc.free_queue.tail.load(std::memory_order_relaxed);
    const std::uint32_t head = lc.free_queue.head.load(std::memory_order_acquire);
    if (static_cast<std::uint32_t>(ls.free_tail - head) <= shm::kMaxRingsPerLane)
      for (std::uint32_t pos = head; pos != ls.free_tail; ++pos)
        ls.pushed[pos % shm::kMaxRingsPerLane] =
            lc.free_queue.slots[pos % shm::kMaxRingsPerLane].load(std::memory_order_relaxed);
  }
  std::memcpy(write_once_header_.data(), mapping_.data(), write_once_header_.size());
  scratch_.events.reserve(g.ring_size / 16);
  copy_.resize(g.ring_size);
}

void ClientSegment::mark_faulty(std::string why, DaemonStats& stats) {
  if (!fault_.empty()) return;
  fault_ = std::move(why);
  count(stats, &DaemonStats::clients_faulty);
}

void ClientSegment::drain(WindowSink& sink, const DrainContext& ctx) {
  if (faulty()) return;
  // The daemon only ever uses the header it checked at attach, but a client
  // that rewrites the write-once part (abi.hpp: written once, before the
  // descriptor is sent) is broken: report it rather than keep reading it.
  if (std::memcmp(seg_.base(), write_once_header_.data(), write_once_header_.size()) != 0) {
    mark_faulty("rewrote the write-once part of its segment header", ctx.stats);
    return;
  }
  if (!reclaimed_) {
    reclaimed_ = true;
    reclaim_held_rings(sink, ctx);
  }
  const std::uint32_t lanes = header_.layout.geometry.lane_count;
  for (std::uint32_t l = 0; l < lanes && !faulty(); ++l) drain_lane(l, sink, ctx);
}

std::uint64_t ClientSegment::to_monotonic_ns(std::uint64_t raw, const TscClock& clock) const noexcept {
  return header_.clock_source == shm::ClockSource::tsc ? clock.to_monotonic_ns(raw) : raw;
}

void ClientSegment::drain_lane(std::uint32_t lane, WindowSink& sink, const DrainContext& ctx) {
  DaemonStats& stats = ctx.stats;
  LaneState& ls = lanes_[lane];
  const std::uint32_t rings = header_.layout.geometry.rings_per_lane;
  // Bounded: a client pushing as fast as we pop cannot keep the worker here.
  for (std::uint32_t budget = shm::kMaxRingsPerLane; budget != 0; --budget) {
    std::uint32_t ring_untrusted = 0;
    const shm::QueueStatus st = ls.submit.try_pop(ring_untrusted);
    if (st == shm::QueueStatus::empty) break;
    if (st != shm::QueueStatus::ok) {
      mark_faulty("lane " + std::to_string(lane) + ": submit queue positions are impossible", stats);
      return;
    }
    if (ring_untrusted >= rings) {
      mark_faulty("lane " + std::to_string(lane) + ": submitted ring index " + std::to_string(ring_untrusted) +
                      " out of range",
                  stats);
      return;
    }
    const std::uint32_t ring = ring_untrusted;
    if (auto why = check_submitted(lane, ring)) {
      mark_faulty(std::move(*why), stats);
      return;
    }
    // Edge SUBMITTED -> HELD [daemon].
    seg_.ring_header(lane, ring).state.store(static_cast<std::uint32_t>(shm::RingState::held),
                                             std::memory_order_relaxed);
    decide_and_return(lane, ring, sink, ctx);
    if (faulty()) return;
  }
  maybe_free_lane(lane, stats);
}

void ClientSegment::decide_and_return(std::uint32_t lane, std::uint32_t ring, WindowSink& sink,
                                      const DrainContext& ctx) {
  DaemonStats& stats = ctx.stats;
  LaneState& ls = lanes_[lane];
  count(stats, &DaemonStats::windows_seen);
  const auto extent = extent_of(lane, ring);
  if (!extent) {
    count(stats, &DaemonStats::rings_corrupt);
    if (own_.rings_corrupt.load(std::memory_order_relaxed) <= kMaxCorruptRingReports)
      spdlog::warn("pid {}: lane {} ring {}: impossible start/wrap/committed offsets; ring skipped",
                   pid_, lane, ring);
  } else {
    count(stats, &DaemonStats::bytes_seen, extent->bytes());
    if (extent->bytes() == 0) {
      count(stats, &DaemonStats::windows_discarded);
    } else if (const auto t0 = std::chrono::steady_clock::now();
               scan(lane, ring, seg_.ring_data(lane, ring), *extent, ctx, already_persisted(lane, ring))) {
      if (scratch_.events.empty()) {
        give_back(lane, ring, stats);  // every event was written by an early flush
        return;
      }
      const SelectionPolicy sel = ctx.policy.selection(header_.layout.geometry.rings_per_lane);
      const Decision d = ls.selector.on_window(sel, ls.held.size());
      // Decision latency: parse, mark and select; the write that may follow
      // is the storage's cost, counted there.
      stats.decision_latency.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
      decide(lane, ring, d, sel, sink, ctx);
      return;  // decide() handed the ring back or holds it
    }
  }
  give_back(lane, ring, stats);
}

void ClientSegment::reclaim_held_rings(WindowSink& sink, const DrainContext& ctx) {
  const auto& g = header_.layout.geometry;
  for (std::uint32_t l = 0; l < g.lane_count && !faulty(); ++l) {
    for (std::uint32_t r = 0; r < g.rings_per_lane && !faulty(); ++r) {
      // Only a daemon sets HELD, and we are the only daemon: such a ring was
      // taken by a daemon that died before handing it back.
      if (seg_.ring_header(l, r).state.load(std::memory_order_relaxed) !=
          static_cast<std::uint32_t>(shm::RingState::held))
        continue;
      spdlog::debug("pid {}: lane {} ring {} was held by a previous daemon; reclaimed", pid_, l, r);
      lanes_[l].owned |= std::uint64_t{1} << r;  // ours now, until handed back
      decide_and_return(l, r, sink, ctx);
    }
  }
}

std::optional<shm::RingExtent> ClientSegment::extent_of(std::uint32_t lane, std::uint32_t ring) const noexcept {
  const shm::RingHeader& hdr = seg_.ring_header(lane, ring);
  // acquire on committed pairs with the writer's release after each record;
  // start/wrap_end were published by the same release (or the queue's).
  const std::uint32_t committed_untrusted = hdr.committed.load(std::memory_order_acquire);
  return shm::checked_extent(hdr.start.load(std::memory_order_relaxed), hdr.wrap_end.load(std::memory_order_relaxed),
                             committed_untrusted, header_.layout.geometry.ring_size);
}

bool ClientSegment::scan(std::uint32_t lane, std::uint32_t ring, const unsigned char* bytes,
                         const shm::RingExtent& extent, const DrainContext& ctx, std::uint32_t skip, bool peek) {
  const MarkingPolicy& policy = ctx.policy;
  DaemonStats& stats = ctx.stats;
  const shm::RingHeader& hdr = seg_.ring_header(lane, ring);
  const shm::LaneControl& lc = seg_.lane(lane);
  ScannedWindow& w = scratch_;
  w.events.clear();
  w.bytes = extent.bytes();
  w.meta = atf::WindowMeta{};
  w.meta.lane = lane;
  // Descriptive values only (never used as indices): relaxed reads.
  w.meta.tid = lc.tid.load(std::memory_order_relaxed);
  w.meta.ring_sequence = hdr.sequence.load(std::memory_order_relaxed);
  // Evicted events that an early flush had already written are not lost.
  const std::uint64_t evicted = hdr.overwritten_events.load(std::memory_order_relaxed);
  const std::uint64_t written_early = hdr.persisted_sequence.load(std::memory_order_relaxed) == w.meta.ring_sequence
                                          ? hdr.persisted_events.load(std::memory_order_relaxed)
                                          : 0;
  w.meta.lost_events_before = evicted > written_early ? evicted - written_early : 0;
  w.meta.lost_bytes_before = w.meta.lost_events_before != 0 ? hdr.overwritten_bytes.load(std::memory_order_relaxed) : 0;
  const shm::ParseResult r =
      shm::parse_ring(bytes, extent, header_.layout.geometry.max_message_size, [&](const shm::RecordView& rec) {
        atf::EventView ev;
        ev.timestamp_ns = to_monotonic_ns(rec.timestamp_raw, ctx.clock);
        ev.level = rec.level;
        ev.kind = rec.kind;
        ev.flags = rec.flags;
        ev.name = rec.name;
        ev.message = rec.message;
        w.events.push_back(ev);
      });
  if (!r.ok) {
    count(stats, &DaemonStats::rings_corrupt);
    // The cap is per client (own_), as documented: with the daemon-wide
    // counter, the first ten corrupt rings of any clients silenced every
    // later client's reports for the daemon's lifetime.
    if (own_.rings_corrupt.load(std::memory_order_relaxed) <= kMaxCorruptRingReports)
      spdlog::warn("pid {}: lane {} ring {}: {}; ring skipped", pid_, lane, ring, r.error);
    return false;
  }
  w.skipped = static_cast<std::uint32_t>(std::min<std::size_t>(skip, w.events.size()));
  if (skip != 0) w.events.erase(w.events.begin(), w.events.begin() + w.skipped);
  if (peek) return true;  // parsed only: no marking, no counters
  counts_.clear();
  if (policy.enabled()) mark_events(policy, ctx.scratch, ctx.stats);
  std::uint32_t marked = 0;
  for (const atf::EventView& ev : w.events) {
    if ((ev.flags & (atf::event_flags::policy_marked | atf::event_flags::client_marked)) == 0) continue;
    if (marked++ == 0) w.meta.first_marked_ns = ev.timestamp_ns;
  }
  w.meta.event_count = static_cast<std::uint32_t>(w.events.size());
  w.meta.marked_count = marked;
  if (!w.events.empty()) {
    w.meta.start_ns = w.events.front().timestamp_ns;
    w.meta.end_ns = w.events.back().timestamp_ns;
  }
  for (std::uint32_t id = 0; id < counts_.size(); ++id)
    if (counts_[id] != 0) w.meta.patterns.push_back({id, counts_[id]});
  count(stats, &DaemonStats::events_seen, w.events.size());
  count(stats, &DaemonStats::events_marked, marked);
  if (marked != 0) lanes_[lane].selector.note_marked();
  return true;
}

void ClientSegment::mark_events(const MarkingPolicy& policy, PatternMatcher::Scratch* scratch, DaemonStats& stats) {
  auto& events = scratch_.events;
  counts_.assign(policy.pattern_count(), 0);
  for (atf::EventView& ev : events)
    if (policy.level_marks(ev.level)) ev.flags |= atf::event_flags::policy_marked;
  const PatternMatcher* matcher = policy.matcher();
  if (matcher == nullptr || scratch == nullptr || events.empty()) return;
  texts_.clear();
  for (const atf::EventView& ev : events) texts_.push_back({ev.name, ev.message});
  hits_.clear();
  const auto t0 = std::chrono::steady_clock::now();
  matcher->match_events(texts_, *scratch, hits_);
  DaemonStats::add(stats.marking_ns_total,
                   static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::steady_clock::now() - t0)
                                                  .count()));
  DaemonStats::add(stats.marking_events_total, events.size());
  // Hits come ordered by event then pattern: one pass applies the count
  // conditions in event order and books each pattern's marking hits.
  last_hit_.assign(policy.pattern_count(), ~0u);
  for (const PatternHit& h : hits_) {
    if (h.event_index >= events.size() || h.pattern_id >= counts_.size()) continue;
    atf::EventView& ev = events[h.event_index];
    if (!count_conditions_.on_match(policy, h.pattern_id, ev.timestamp_ns)) continue;
    ev.flags |= atf::event_flags::policy_marked;
    // Hits of one event come in ascending pattern order: the file names the
    // lowest pattern that marked it.
    if (ev.pattern == 0) ev.pattern = atf::pattern_field(h.pattern_id);
    ++counts_[h.pattern_id];
    last_hit_[h.pattern_id] = h.event_index;
  }
  PatternStats& pattern_stats = policy.stats();
  for (std::uint32_t id = 0; id < counts_.size(); ++id) {
    if (counts_[id] == 0) continue;
    pattern_stats.add_hits(id, counts_[id]);
    const atf::EventView& ev = events[last_hit_[id]];
    pattern_stats.set_last(id, {ev.timestamp_ns, pid_, std::string(ev.message.substr(0, 120))});
  }
}

void ClientSegment::apply(std::uint32_t lane, std::uint32_t ring, const Decision& d, WindowSink& sink,
                          DaemonStats& stats) {
  LaneState& ls = lanes_[lane];
  if (d.release_held) release_held(lane, true, d.held_reason, sink, stats);
  switch (d.action) {
    case Decision::Action::persist:
      persist_scanned(sink, d.reason, stats);
      // Recorded before the ring goes back: a daemon that dies in between
      // and its successor, finding the ring HELD, do not write it twice.
      if (ring != kNoRing) note_persisted(lane, ring, scratch_.skipped + static_cast<std::uint32_t>(scratch_.events.size()));
      break;
    case Decision::Action::hold:
      if (d.drop_oldest_held && !ls.held.empty()) {
        // Edge HELD -> FREE for the oldest pre-roll window: it aged out.
        give_back(lane, ls.held.front().ring, stats);
        ls.held.pop_front();
        count(stats, &DaemonStats::windows_discarded);
      }
      if (ring != kNoRing) {
        ls.held.push_back({ring, scratch_});
        count(stats, &DaemonStats::windows_held);
        return;  // the ring stays HELD
      }
      count(stats, &DaemonStats::windows_discarded);
      break;
    case Decision::Action::discard:
      count(stats, &DaemonStats::windows_discarded);
      break;
  }
  if (ring != kNoRing) give_back(lane, ring, stats);
}

void ClientSegment::decide(std::uint32_t lane, std::uint32_t ring, const Decision& d, const SelectionPolicy& sel,
                           WindowSink& sink, const DrainContext& ctx) {
  const bool marked_window = d.persist() && scratch_.meta.marked_count != 0;
  const std::uint64_t start = scratch_.meta.start_ns, end = scratch_.meta.end_ns;
  apply(lane, ring, d, sink, ctx.stats);
  if (marked_window && sel.process_scope) keep_process_context(lane, start, end, sink, ctx);
}

void ClientSegment::keep_process_context(std::uint32_t marked_lane, std::uint64_t start_ns, std::uint64_t end_ns,
                                         WindowSink& sink, const DrainContext& ctx) {
  const auto& g = header_.layout.geometry;
  const auto overlaps = [&](const atf::WindowMeta& m) { return m.start_ns <= end_ns && m.end_ns >= start_ns; };
  for (std::uint32_t l = 0; l < g.lane_count && !faulty(); ++l) {
    if (l == marked_lane) continue;
    LaneState& ls = lanes_[l];
    // Held pre-roll that overlaps the marked window: written, oldest first.
    for (auto it = ls.held.begin(); it != ls.held.end();) {
      if (!overlaps(it->window.meta)) {
        ++it;
        continue;
      }
      persist_window(sink, it->window, atf::KeepReason::process_context, ctx.stats);
      note_persisted(l, it->ring, it->window.skipped + static_cast<std::uint32_t>(it->window.events.size()));
      give_back(l, it->ring, ctx.stats);
      it = ls.held.erase(it);
    }
    // The unwritten part of the active ring, if it reaches into the span.
    write_active_part(l, atf::KeepReason::process_context, sink, ctx, overlaps);
  }
}

bool ClientSegment::write_active_part(std::uint32_t lane, atf::KeepReason reason, WindowSink& sink,
                                      const DrainContext& ctx,
                                      const std::function<bool(const atf::WindowMeta&)>& accept) {
  const std::uint32_t ring_untrusted = seg_.lane(lane).active_ring.load(std::memory_order_acquire);
  if (ring_untrusted >= header_.layout.geometry.rings_per_lane) return false;
  const std::uint32_t ring = ring_untrusted;
  const auto extent = copy_active(lane, ring);
  if (!extent) return false;
  const std::uint32_t skip = already_persisted(lane, ring);
  if (!scan(lane, ring, copy_.data(), *extent, ctx, skip) || scratch_.events.empty()) return false;
  if (!accept(scratch_.meta)) return false;
  count(ctx.stats, &DaemonStats::windows_seen);
  count(ctx.stats, &DaemonStats::bytes_seen, extent->bytes());
  const std::uint32_t in_ring = skip + static_cast<std::uint32_t>(scratch_.events.size());
  persist_scanned(sink, reason, ctx.stats);
  note_persisted(lane, ring, in_ring);
  return true;
}

void ClientSegment::release_held(std::uint32_t lane, bool persist, atf::KeepReason reason, WindowSink& sink,
                                 DaemonStats& stats) {
  LaneState& ls = lanes_[lane];
  while (!ls.held.empty()) {
    HeldWindow& h = ls.held.front();
    if (persist) {
      persist_window(sink, h.window, reason, stats);
      note_persisted(lane, h.ring, h.window.skipped + static_cast<std::uint32_t>(h.window.events.size()));
    } else {
      count(stats, &DaemonStats::windows_discarded);
    }
    give_back(lane, h.ring, stats);
    ls.held.pop_front();
  }
}

std::size_t ClientSegment::held_windows() const noexcept {
  std::size_t n = 0;
  for (const auto& l : lanes_) n += l.held.size();
  return n;
}

void ClientSegment::persist_scanned(WindowSink& sink, atf::KeepReason reason, DaemonStats& stats) {
  persist_window(sink, scratch_, reason, stats);
}

void ClientSegment::persist_window(WindowSink& sink, ScannedWindow& w, atf::KeepReason reason, DaemonStats& stats) {
  w.meta.reason = reason;
  if (sink.persist(w.meta, w.events)) {
    count(stats, &DaemonStats::windows_persisted);
    count(stats, &DaemonStats::events_persisted, w.events.size());
    count(stats, &DaemonStats::bytes_persisted, w.bytes);
    const auto r = static_cast<std::size_t>(reason);
    if (r < stats.windows_by_reason.size()) {
      DaemonStats::add(stats.windows_by_reason[r]);
      DaemonStats::add(own_.windows_by_reason[r]);
    }
    if (w.meta.end_ns > w.meta.start_ns) count(stats, &DaemonStats::window_duration_ns_total, w.meta.end_ns - w.meta.start_ns);
    if (w.meta.marked_count != 0) note_last_mark(w, stats);
  } else {
    count(stats, &DaemonStats::windows_failed);
  }
}

void ClientSegment::note_last_mark(const ScannedWindow& w, DaemonStats& stats) {
  for (auto it = w.events.rbegin(); it != w.events.rend(); ++it) {
    if ((it->flags & (atf::event_flags::policy_marked | atf::event_flags::client_marked)) == 0) continue;
    stats.set_last_marked({it->timestamp_ns, pid_, it->pattern == 0 ? -1 : static_cast<std::int32_t>(it->pattern) - 1,
                           std::string(it->message.substr(0, 120))});
    return;
  }
}

CaptureCounters ClientSegment::capture_counters() const noexcept { return shm::sum_counters(seg_); }

void ClientSegment::publish_capture(DaemonStats& stats) noexcept {
  const CaptureCounters now = capture_counters();
  const auto publish = [](std::atomic<std::uint64_t>& total, std::uint64_t& published, std::uint64_t current) {
    if (current > published) DaemonStats::add(total, current - published);
    published = std::max(published, current);
  };
  publish(stats.capture_events_written, published_.events_written, now.events_written);
  publish(stats.capture_bytes_written, published_.bytes_written, now.bytes_written);
  publish(stats.capture_events_overwritten, published_.events_overwritten, now.events_overwritten);
  publish(stats.capture_events_truncated, published_.events_truncated, now.events_truncated);
  publish(stats.capture_events_dropped_nested, published_.events_dropped_nested, now.events_dropped_nested);
  publish(stats.capture_events_dropped_no_lane, published_.events_dropped_no_lane, now.events_dropped_no_lane);
  publish(stats.capture_ring_swaps, published_.ring_swaps, now.ring_swaps);
  publish(stats.capture_swaps_without_spare, published_.swaps_without_spare, now.swaps_without_spare);
}

void ClientSegment::give_back(std::uint32_t lane, std::uint32_t ring, DaemonStats& stats) {
  LaneState& ls = lanes_[lane];
  ls.owned &= ~(std::uint64_t{1} << ring);
  // Edge HELD -> FREE [daemon]: state first, then the push whose release
  // hands the ring to the client.
  seg_.ring_header(lane, ring).state.store(static_cast<std::uint32_t>(shm::RingState::free),
                                           std::memory_order_relaxed);
  if (ls.free.try_push(ring) != shm::QueueStatus::ok) {
    // More rings out than the lane has: the client moved the free queue's
    // head. Through mark_faulty, so it is counted in clients_faulty like
    // every other fault (it used to be set here uncounted).
    mark_faulty("lane " + std::to_string(lane) + ": free queue overflow (its head was moved)", stats);
    return;
  }
  ls.pushed[ls.free_tail % shm::kMaxRingsPerLane] = ring;
  ++ls.free_tail;
}

std::optional<std::string> ClientSegment::check_submitted(std::uint32_t lane, std::uint32_t ring) {
  // Invariant (abi.hpp): each ring is in exactly one place. A ring the client
  // submits must be one it took: not one the daemon holds (submitted twice),
  // nor one still waiting in the free queue, between the client's head and
  // our tail (submitted without taking it, or the head moved back over it).
  // Either way two parties would own one ring; before this check the daemon
  // wrote the window twice and handed the ring back twice, so the client's
  // spares held duplicates, unnoticed unless the free queue overflowed.
  LaneState& ls = lanes_[lane];
  const std::uint64_t bit = std::uint64_t{1} << ring;
  const std::string where = "lane " + std::to_string(lane) + ": ring " + std::to_string(ring);
  if ((ls.owned & bit) != 0) return where + " submitted twice (the daemon holds it)";
  // acquire: pairs with the client's release of head when it took the ring,
  // which precedes its submit push (already acquired by our pop).
  const std::uint32_t head = seg_.lane(lane).free_queue.head.load(std::memory_order_acquire);
  if (static_cast<std::uint32_t>(ls.free_tail - head) > shm::kMaxRingsPerLane)
    return "lane " + std::to_string(lane) + ": free queue positions are impossible";
  for (std::uint32_t pos = head; pos != ls.free_tail; ++pos)
    if (ls.pushed[pos % shm::kMaxRingsPerLane] == ring) return where + " submitted while still in the free queue";
  ls.owned |= bit;
  return std::nullopt;
}

void ClientSegment::maybe_free_lane(std::uint32_t lane, DaemonStats& stats) {
  shm::LaneControl& lc = seg_.lane(lane);
  // acquire: pairs with the exiting thread's release of RETIRED, so its last
  // submit and free-queue head are visible to the checks below.
  std::uint32_t expected = static_cast<std::uint32_t>(shm::LaneState::retired);
  if (lc.state.load(std::memory_order_acquire) != expected) return;
  LaneState& ls = lanes_[lane];
  if (ls.submit.size_hint() != 0) return;
  // The thread is gone: no marked window can follow on this lane, so its
  // pre-roll is handed back and the lane can be reused.
  if (!ls.held.empty()) {
    for (const HeldWindow& h : ls.held) give_back(lane, h.ring, stats);
    ls.held.clear();
  }
  if (ls.free.size_hint() != header_.layout.geometry.rings_per_lane) return;
  // Edge RETIRED -> FREE [daemon]: release publishes our free-queue pushes
  // to the next thread that claims the lane.
  lc.state.compare_exchange_strong(expected, static_cast<std::uint32_t>(shm::LaneState::free),
                                   std::memory_order_release, std::memory_order_relaxed);
}

std::optional<shm::RingExtent> ClientSegment::copy_active(std::uint32_t lane, std::uint32_t ring) {
  shm::RingHeader& hdr = seg_.ring_header(lane, ring);
  // Seqlock read (see RingHeader::generation): copy the ring's records and
  // keep the copy only if the writer did not rewrite them meanwhile.
  const std::uint64_t gen_before = hdr.generation.load(std::memory_order_acquire);
  const auto extent = extent_of(lane, ring);
  if (!extent || extent->bytes() == 0) return std::nullopt;
  const unsigned char* src = seg_.ring_data(lane, ring);
  std::memcpy(copy_.data() + extent->older_begin, src + extent->older_begin, extent->older_end - extent->older_begin);
  std::memcpy(copy_.data(), src, extent->newer_end);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (hdr.generation.load(std::memory_order_relaxed) != gen_before) return std::nullopt;
  return extent;
}

std::uint32_t ClientSegment::already_persisted(std::uint32_t lane, std::uint32_t ring) const noexcept {
  const shm::RingHeader& hdr = seg_.ring_header(lane, ring);
  if (hdr.persisted_sequence.load(std::memory_order_relaxed) != hdr.sequence.load(std::memory_order_relaxed)) return 0;
  const std::uint64_t written = hdr.persisted_events.load(std::memory_order_relaxed);
  const std::uint64_t evicted = hdr.overwritten_events.load(std::memory_order_relaxed);
  // Ordinals below `evicted` are gone from the ring; of those still in it,
  // the ones below `written` were written already.
  return written > evicted ? static_cast<std::uint32_t>(written - evicted) : 0;
}

void ClientSegment::note_persisted(std::uint32_t lane, std::uint32_t ring, std::uint32_t events_in_ring) noexcept {
  shm::RingHeader& hdr = seg_.ring_header(lane, ring);
  const std::uint64_t evicted = hdr.overwritten_events.load(std::memory_order_relaxed);
  hdr.persisted_events.store(static_cast<std::uint32_t>(evicted + events_in_ring), std::memory_order_relaxed);
  hdr.persisted_sequence.store(hdr.sequence.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void ClientSegment::flush_waiting_marks(WindowSink& sink, const DrainContext& ctx, std::uint64_t now_ns,
                                        bool force) {
  const std::uint64_t flush_after = force ? 0 : ctx.policy.config().flush_after_ns;
  if ((flush_after == 0 && !force) || !ctx.policy.enabled() || faulty()) return;
  const auto& g = header_.layout.geometry;
  for (std::uint32_t l = 0; l < g.lane_count; ++l) {
    shm::LaneControl& lc = seg_.lane(l);
    if (lc.state.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(shm::LaneState::active)) continue;
    const std::uint32_t ring_untrusted = lc.active_ring.load(std::memory_order_acquire);
    if (ring_untrusted >= g.rings_per_lane) continue;
    const std::uint32_t ring = ring_untrusted;
    ActiveWatch& watch = lanes_[l].watch;
    const shm::RingHeader& hdr = seg_.ring_header(l, ring);
    const std::uint64_t sequence = hdr.sequence.load(std::memory_order_relaxed);
    const std::uint32_t committed = hdr.committed.load(std::memory_order_acquire);
    if (watch.ring != ring || watch.sequence != sequence) watch = ActiveWatch{ring, sequence, ~0u, 0};
    const bool changed = committed != watch.committed_seen;
    const bool due = watch.marked_since_ns != 0 && now_ns - watch.marked_since_ns >= flush_after;
    if (!changed && !due && !force) continue;
    const auto extent = copy_active(l, ring);
    if (!extent) continue;
    // Seen once copied, parsed or not: a corrupt active ring is counted and
    // reported once, not again at every poll until its writer moves on
    // (rings_corrupt used to grow by one per poll for as long as it stayed).
    watch.committed_seen = committed;
    const std::uint32_t skip = already_persisted(l, ring);
    // Counters and count conditions see these events once, when they are
    // written or discarded; peeking here must not count them. So: parse
    // without marking, and look only for marks that need no history.
    if (!scan(l, ring, copy_.data(), *extent, ctx, skip, /*peek=*/true)) continue;
    if (watch.marked_since_ns == 0 && has_immediate_mark(ctx.policy, ctx.scratch)) watch.marked_since_ns = now_ns;
    if (watch.marked_since_ns == 0 || now_ns - watch.marked_since_ns < flush_after) continue;
    // Due: decide and write for real.
    const std::uint32_t in_ring = skip + static_cast<std::uint32_t>(scratch_.events.size());
    if (!scan(l, ring, copy_.data(), *extent, ctx, skip) || scratch_.events.empty()) continue;
    count(ctx.stats, &DaemonStats::windows_seen);
    count(ctx.stats, &DaemonStats::bytes_seen, extent->bytes());
    const SelectionPolicy sel = ctx.policy.selection(g.rings_per_lane);
    Decision d = lanes_[l].selector.on_window(sel, lanes_[l].held.size());
    if (d.persist() && d.reason == atf::KeepReason::marked) d.reason = atf::KeepReason::flush_timeout;
    if (d.action == Decision::Action::hold) d.action = Decision::Action::discard;  // the ring is not ours to hold
    decide(l, kNoRing, d, sel, sink, ctx);
    note_persisted(l, ring, in_ring);
    watch.marked_since_ns = 0;
  }
}

bool ClientSegment::has_immediate_mark(const MarkingPolicy& policy, PatternMatcher::Scratch* scratch) {
  const auto& events = scratch_.events;
  for (const atf::EventView& ev : events)
    if ((ev.flags & atf::event_flags::client_marked) != 0 || policy.level_marks(ev.level)) return true;
  const PatternMatcher* matcher = policy.matcher();
  if (matcher == nullptr || scratch == nullptr || events.empty()) return false;
  texts_.clear();
  for (const atf::EventView& ev : events) texts_.push_back({ev.name, ev.message});
  hits_.clear();
  matcher->match_events(texts_, *scratch, hits_);
  // A trigger with a count condition needs the client's history, which only
  // the real marking pass keeps: it does not start the flush clock.
  for (const PatternHit& h : hits_)
    if (h.pattern_id < policy.pattern_count() && policy.trigger(h.pattern_id).min_count <= 1) return true;
  return false;
}

bool ClientSegment::arm_doorbell() noexcept {
  if (faulty()) return false;
  seg_.header().doorbell_armed.store(1, std::memory_order_relaxed);
  // Pairs with the client's fence before it reads doorbell_armed (abi.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (const LaneState& ls : lanes_)
    if (ls.submit.size_hint() != 0) return true;
  return false;
}

void ClientSegment::snapshot(WindowSink& sink, const DrainContext& ctx) {
  drain(sink, ctx);
  const auto& g = header_.layout.geometry;
  for (std::uint32_t l = 0; l < g.lane_count && !faulty(); ++l) {
    release_held(l, true, atf::KeepReason::manual_snapshot, sink, ctx.stats);
    write_active_part(l, atf::KeepReason::manual_snapshot, sink, ctx,
                      [](const atf::WindowMeta&) { return true; });
  }
}

void ClientSegment::finalize(WindowSink& sink, const DrainContext& ctx, atf::KeepReason reason) {
  DaemonStats& stats = ctx.stats;
  drain(sink, ctx);
  if (faulty()) return;
  const auto& g = header_.layout.geometry;
  const SelectionPolicy sel = ctx.policy.selection(g.rings_per_lane);
  for (std::uint32_t l = 0; l < g.lane_count; ++l) {
    shm::LaneControl& lc = seg_.lane(l);
    // acquire: pairs with the writer's release in activate(): the ring's
    // reset is visible before we read its header.
    const std::uint32_t active_untrusted = lc.active_ring.load(std::memory_order_acquire);
    if (active_untrusted >= g.rings_per_lane) continue;  // none (or nonsense): nothing to salvage
    const std::uint32_t ring = active_untrusted;
    const auto extent = copy_active(l, ring);
    if (!extent) continue;
    count(stats, &DaemonStats::windows_seen);
    count(stats, &DaemonStats::bytes_seen, extent->bytes());
    const std::uint32_t skip = already_persisted(l, ring);
    if (!scan(l, ring, copy_.data(), *extent, ctx, skip) || scratch_.events.empty()) continue;
    const std::uint32_t in_ring = skip + static_cast<std::uint32_t>(scratch_.events.size());
    const Decision d = lanes_[l].selector.on_final(reason, sel, lanes_[l].held.size());
    decide(l, kNoRing, d, sel, sink, ctx);
    // A live client (daemon shutdown) keeps this ring: the next daemon must
    // not write these events again.
    if (d.persist()) note_persisted(l, ring, in_ring);
  }
  // What is still held (lanes without an active ring, or whose last part was
  // not kept) is written only when the crash policy keeps everything, and
  // handed back otherwise (a live client after a daemon shutdown reuses it).
  const bool keep_all = !sel.marking || (reason == atf::KeepReason::client_crash && sel.on_crash == OnCrash::all);
  for (std::uint32_t l = 0; l < g.lane_count && !faulty(); ++l)
    release_held(l, keep_all, reason, sink, stats);
}

}  // namespace preroll::daemon
