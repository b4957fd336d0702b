// The daemon's view of one client's segment: the mapping, the header it
// checked at attach, and per lane the daemon's private queue endpoints and
// selector. Used by the persistence worker only (never concurrently).
//
// Every value read from the segment is untrusted (names end in _untrusted
// until checked). A corrupt queue or ring marks the client faulty: it is
// reported, its remaining rings are not read, and no other client is touched.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "count_conditions.hpp"
#include "daemon_stats.hpp"
#include "marking_policy.hpp"
#include "preroll/atf/types.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "preroll/shm/validate.hpp"
#include "window_selector.hpp"
#include "window_sink.hpp"

namespace preroll::daemon {

class TscClock;

// What a drain needs besides the segment: the policy in force, the counters
// to update, and the TSC conversion. All owned by the persistence worker.
struct DrainContext {
  const MarkingPolicy& policy;
  PatternMatcher::Scratch* scratch;  // for policy.matcher(); null when it has none
  DaemonStats& stats;
  const TscClock& clock;
};

class ClientSegment {
 public:
  static constexpr std::uint32_t kNoRing = ~0u;  // a salvaged copy, not a ring to hand back

  // Takes a mapping whose header has been snapshot and validated.
  ClientSegment(shm::MappedSegment mapping, shm::HeaderSnapshot header, std::uint32_t pid);

  // Drains every lane's submit queue: decides per window, persists or
  // discards, hands the ring back, and frees lanes whose thread exited.
  void drain(WindowSink& sink, const DrainContext& ctx);

  // --flush-after: writes the unwritten part of an active ring once a marked
  // event has waited `flush_after_ns` in it (reason flush-timeout), so a
  // mark reaches disk even if its ring never fills. Cheap when nothing
  // changed: rings are only re-read when their committed size moved.
  // `force` (prerollctl flush): every mark waiting in an active ring is due
  // now, whatever --flush-after says.
  void flush_waiting_marks(WindowSink& sink, const DrainContext& ctx, std::uint64_t now_ns, bool force = false);

  // A manual snapshot (prerollctl snapshot): drains, then writes every held
  // window and the unwritten part of every active ring now (reason
  // manual-snapshot); later hand-overs continue after what was written.
  void snapshot(WindowSink& sink, const DrainContext& ctx);

  // The end of the attachment (client exit or crash, daemon shutdown):
  // drains, then persists the committed part of each active ring per policy
  // with `reason`.
  void finalize(WindowSink& sink, const DrainContext& ctx, atf::KeepReason reason);

  // After a drain: tells the client's threads to ring the next time they
  // submit (SegmentHeader::doorbell_armed), then re-checks the submit queues.
  // True when rings arrived meanwhile: drain again.
  bool arm_doorbell() noexcept;

  [[nodiscard]] bool faulty() const noexcept { return !fault_.empty(); }

  // This client's share of the daemon's window and event counters (the same
  // fields as DaemonStats; storage and client-count fields stay 0). Written
  // by the worker, read by the control socket.
  [[nodiscard]] const DaemonStats& own_stats() const noexcept { return own_; }
  // What the client library counted: capture volume and losses by cause.
  // Reads the segment's counters; safe from any thread while it is mapped.
  [[nodiscard]] CaptureCounters capture_counters() const noexcept;
  // Adds to the daemon's capture_* counters what the client counted since
  // the last call (never less than nothing: a counter going back is a lie).
  void publish_capture(DaemonStats& stats) noexcept;
  [[nodiscard]] const std::string& fault() const noexcept { return fault_; }
  [[nodiscard]] const shm::HeaderSnapshot& header() const noexcept { return header_; }
  // Windows held back as pre-roll, all lanes (a hint for reports and tests).
  [[nodiscard]] std::size_t held_windows() const noexcept;

 private:
  using FreeProducer = shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane>;
  using SubmitConsumer = shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane>;

  struct ScannedWindow {
    atf::WindowMeta meta;
    std::vector<atf::EventView> events;  // views into the ring (or copy_)
    std::uint64_t bytes = 0;
    std::uint32_t skipped = 0;  // events at the front already written by an early flush
  };

  // A pre-roll window: its ring stays HELD by the daemon (no copy), so the
  // event views stay valid until it is written or handed back.
  struct HeldWindow {
    std::uint32_t ring = 0;
    ScannedWindow window;
  };

  // What --flush-after knows about a lane's active ring.
  struct ActiveWatch {
    std::uint32_t ring = kNoRing;
    std::uint64_t sequence = 0;
    std::uint32_t committed_seen = 0;  // skip the ring while it does not change
    std::uint64_t marked_since_ns = 0; // daemon time an unpersisted mark was first seen; 0: none
  };

  struct LaneState {
    SubmitConsumer submit;
    FreeProducer free;
    // Ring ownership as the daemon knows it (check_submitted): rings popped
    // from the submit queue and not handed back yet (bit r; rings_per_lane
    // <= 64), and the rings pushed on the free queue by position, private
    // copies the client cannot touch.
    std::uint64_t owned = 0;
    std::uint32_t free_tail = 0;  // == our producer's tail
    std::array<std::uint32_t, shm::kMaxRingsPerLane> pushed{};
    WindowSelector selector;
    std::deque<HeldWindow> held;  // oldest first, at most the capped pre-roll
    ActiveWatch watch;
  };

  void drain_lane(std::uint32_t lane, WindowSink& sink, const DrainContext& ctx);
  // After a daemon restart: rings the previous daemon held (state HELD) are
  // decided now as if just submitted, then handed back.
  void reclaim_held_rings(WindowSink& sink, const DrainContext& ctx);
  void decide_and_return(std::uint32_t lane, std::uint32_t ring, WindowSink& sink, const DrainContext& ctx);
  // Scans `bytes` (a ring's committed prefix) into scratch_. False on a
  // corrupt ring (counted, reported once).
  // Parses a ring's records into scratch_, drops the first `skip` (already
  // written by an early flush), marks the rest. False on a corrupt ring.
  // `peek`: parse only (no marking, no counters), for --flush-after.
  bool scan(std::uint32_t lane, std::uint32_t ring, const unsigned char* bytes, const shm::RingExtent& extent,
            const DrainContext& ctx, std::uint32_t skip = 0, bool peek = false);
  // Whether the peeked events hold a mark that needs no history (client
  // flag, level, or a trigger without a count condition).
  bool has_immediate_mark(const MarkingPolicy& policy, PatternMatcher::Scratch* scratch);
  // Events at the front of the ring's current contents that a daemon has
  // already written (RingHeader::persisted_*).
  [[nodiscard]] std::uint32_t already_persisted(std::uint32_t lane, std::uint32_t ring) const noexcept;
  // Records that every event of the ring's activation up to its current
  // end has been written.
  void note_persisted(std::uint32_t lane, std::uint32_t ring, std::uint32_t events_in_ring) noexcept;
  // Copies an active ring under its seqlock into copy_; nullopt if it is
  // empty, corrupt, or was rewritten during the copy.
  std::optional<shm::RingExtent> copy_active(std::uint32_t lane, std::uint32_t ring);
  [[nodiscard]] std::optional<shm::RingExtent> extent_of(std::uint32_t lane, std::uint32_t ring) const noexcept;
  [[nodiscard]] std::uint64_t to_monotonic_ns(std::uint64_t raw, const TscClock& clock) const noexcept;
  // Sets policy_marked on the scanned window's events (level, patterns with
  // their count conditions) and books pattern hits.
  void mark_events(const MarkingPolicy& policy, PatternMatcher::Scratch* scratch, DaemonStats& stats);
  // Remembers the window's last marked event as the daemon's last mark.
  void note_last_mark(const ScannedWindow& w, DaemonStats& stats);
  void persist_scanned(WindowSink& sink, atf::KeepReason reason, DaemonStats& stats);
  void persist_window(WindowSink& sink, ScannedWindow& w, atf::KeepReason reason, DaemonStats& stats);
  // Carries out a decision for the window in scratch_ (ring `ring`, or none
  // for a salvaged copy): held windows first, then this one.
  void apply(std::uint32_t lane, std::uint32_t ring, const Decision& d, WindowSink& sink, DaemonStats& stats);
  // --scope process: after a marked window of `marked_lane` spanning
  // [start_ns, end_ns], writes the other lanes' held windows that overlap it
  // and the unwritten part of their active rings (reason process-context).
  void keep_process_context(std::uint32_t marked_lane, std::uint64_t start_ns, std::uint64_t end_ns,
                            WindowSink& sink, const DrainContext& ctx);
  // Applies `d` to the scanned window and, when it keeps a marked window
  // under --scope process, the other lanes' context.
  void decide(std::uint32_t lane, std::uint32_t ring, const Decision& d, const SelectionPolicy& sel, WindowSink& sink,
              const DrainContext& ctx);
  // Writes the unwritten part of a lane's active ring now with `reason` if
  // `accept` takes its metadata, and records how far it wrote.
  bool write_active_part(std::uint32_t lane, atf::KeepReason reason, WindowSink& sink, const DrainContext& ctx,
                         const std::function<bool(const atf::WindowMeta&)>& accept);
  // Writes (persist) or hands back (discard) every held window of a lane.
  void release_held(std::uint32_t lane, bool persist, atf::KeepReason reason, WindowSink& sink, DaemonStats& stats);
  void give_back(std::uint32_t lane, std::uint32_t ring, DaemonStats& stats);
  // Why a ring just popped from the submit queue is not the client's to
  // submit (held by us, or still in the free queue); nullopt if it is, and
  // then it is ours.
  std::optional<std::string> check_submitted(std::uint32_t lane, std::uint32_t ring);
  void maybe_free_lane(std::uint32_t lane, DaemonStats& stats);
  void mark_faulty(std::string why, DaemonStats& stats);

  shm::MappedSegment mapping_;
  shm::HeaderSnapshot header_;
  std::uint32_t pid_;  // from SO_PEERCRED, for reports
  DaemonStats own_;    // see own_stats()
  CaptureCounters published_;  // what publish_capture() has added so far
  // Adds to the daemon-wide counter and to this client's.
  void count(DaemonStats& daemon, std::atomic<std::uint64_t> DaemonStats::*counter, std::uint64_t n = 1) noexcept {
    DaemonStats::add(daemon.*counter, n);
    DaemonStats::add(own_.*counter, n);
  }
  shm::SegmentRef seg_;
  std::vector<LaneState> lanes_;
  std::string fault_;
  bool reclaimed_ = false;
  // The header's write-once part (before the counters line) as it was at
  // attach, to notice a client rewriting it.
  std::array<unsigned char, offsetof(shm::SegmentHeader, events_dropped_no_lane)> write_once_header_{};
  // Reused per window: no allocation per window in the steady state.
  ScannedWindow scratch_;
  std::vector<std::uint32_t> counts_;        // per pattern, this window
  std::vector<EventText> texts_;             // the window's events for the matcher
  std::vector<PatternHit> hits_;
  std::vector<std::uint32_t> last_hit_;      // per pattern: event index of its last marking hit
  CountConditions count_conditions_;
  std::vector<unsigned char> copy_;  // for reading active rings
};

}  // namespace preroll::daemon
