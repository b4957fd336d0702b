// preroll shared-memory ABI, version 1.
//
// PURPOSE
//   One segment per client process carries every event the process captures,
//   from its threads to prerolld. The client creates the segment (a sealed
//   memfd), fills it without ever waiting for the daemon, and passes its
//   descriptor over the local socket. The daemon maps it, drains full rings,
//   decides per window whether to persist, and hands rings back.
//
// COMPATIBILITY PROMISE
//   The segment starts with a magic and kAbiVersion. A daemon maps only the
//   versions it knows; a field is never moved or retyped within a version.
//   New fields go into reserved space and bump kAbiVersion. All layout facts
//   are pinned by static_asserts at the bottom of this file.
//
// RULES FOR EVERY STRUCT IN THIS FILE
//   - FIXED-WIDTH FIELDS ONLY: uint32_t / uint64_t / char arrays. NEVER size_t,
//     long, bool, pointers or bit-fields: the client and daemon may be built
//     by different compilers and for different bitness.
//   - OFFSETS ARE FROM THE SEGMENT BASE, in bytes.
//   - ATOMICS ARE std::atomic<uint32_t> OR std::atomic<uint64_t>, lock-free and
//     of the size of their plain type, because they are shared between
//     processes (address-free).
//   - ALL-ZERO MEMORY MEANS "EMPTY": a zero lane is free, a zero ring is free
//     and empty, zero counters are zero.
//   - THE DAEMON TREATS EVERY BYTE AS HOSTILE: it copies the header once at
//     attach and validates it (validate.hpp), and bounds-checks every index,
//     offset and length it reads afterwards.
//
// GLOSSARY
//   lane      the capture channel of one thread: a pool of rings and two queues.
//   ring      a fixed-size byte buffer of event records (event_record.hpp).
//   window    the events of one ring as handed to the daemon.
//   submit q  SPSC queue of ring indices, client -> daemon (full/partial rings).
//   free q    SPSC queue of ring indices, daemon -> client (spare rings).
//
// SEGMENT LAYOUT (offsets from the base; computed by segment_layout.hpp)
//
//   0                        4096                    ring_header_offset
//   +------------------------+-----------------------+-------------------+----------------+
//   | SegmentHeader (4 KiB)  | LaneControl[lanes]    | RingHeader[lanes* | ring data,     |
//   | identity, geometry,    | 1 KiB each            | rings_per_lane]   | page aligned:  |
//   | clock, process counters|                       | 64 B each         | ring_size each |
//   +------------------------+-----------------------+-------------------+----------------+
//   lane_table_offset = 4096                          ring_data_offset
//   Ring r of lane l is ring number g = l * rings_per_lane + r: its header is
//   RingHeader[g] and its bytes start at ring_data_offset + g * ring_size.
//
// RING OWNERSHIP STATE MACHINE (RingHeader::state; the edge's actor in [ ])
//
//        [client] pops free q              [client] pushes submit q
//   FREE ----------------------> ACTIVE ------------------------> SUBMITTED
//    ^                            |  ^                                 |
//    |                            |  | [client] no spare ring:         | [daemon] pops
//    |                            +--+ reset, count overwritten         v  submit q
//    +--------------------------------------------------------------- HELD
//                  [daemon] pushes free q (after persist / discard)
//
//   Each ring is in exactly one place: the free queue, a lane's active slot,
//   the submit queue, or held by the daemon. Queue capacity (64) is at least
//   rings_per_lane, so a push never fails on a well-formed segment. A
//   restarted daemon finds the rings a dead daemon held in state HELD.
//
// LANE STATE MACHINE (LaneControl::state)
//
//        [client thread] first event, CAS        [client thread] exit, after
//   FREE -------------------------------> ACTIVE ---------------------------> RETIRED
//    ^                                              submitting its last ring     |
//    +---------------------------------------------------------------------------+
//      [daemon] submit queue drained and every ring of the lane back in free q
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "preroll/shm/spsc_index_queue.hpp"

namespace preroll::shm {

inline constexpr std::uint64_t kSegmentMagic = 0x314745534C525250ULL;  // "PPRLSEG1" little-endian
inline constexpr std::uint32_t kAbiVersion = 1;

inline constexpr std::uint32_t kCacheLine = 64;
inline constexpr std::uint32_t kPageSize = 4096;
inline constexpr std::uint32_t kHeaderRegionSize = 4096;

// Bounds on the geometry. The client picks values inside them; the daemon
// re-checks them (and may refuse a segment larger than its own limit).
inline constexpr std::uint32_t kMaxRingsPerLane = 64;  // == queue capacity
inline constexpr std::uint32_t kMinRingsPerLane = 2;
inline constexpr std::uint32_t kMinRingSize = 4096;
inline constexpr std::uint32_t kMaxRingSize = 64u << 20;
inline constexpr std::uint32_t kMinLanes = 1;
inline constexpr std::uint32_t kMaxLanes = 4096;
inline constexpr std::uint32_t kProcessNameSize = 64;

// Index queue used for both lane queues: positions are free-running uint32_t,
// slots hold ring numbers local to the lane (0 .. rings_per_lane-1).
using RingIndexQueue = SpscIndexQueue<std::uint32_t, kMaxRingsPerLane>;

enum class ClockSource : std::uint32_t {
  monotonic = 0,  // event timestamps are CLOCK_MONOTONIC nanoseconds
  tsc = 1,        // raw TSC; daemon converts with SegmentHeader::tsc_* fields
};

// ---------------------------------------------------------------------------
// SegmentHeader: offset 0, 4096 bytes.
//
//   off  size  field                       writer / when
//   0    8     magic                       client, before the fd is sent
//   8    4     abi_version                 client, before the fd is sent
//   12   4     header_size (=4096)         client, before the fd is sent
//   16   8     segment_size                client, before the fd is sent
//   24   4     lane_count                  client, before the fd is sent
//   28   4     rings_per_lane              client, before the fd is sent
//   32   4     ring_size                   client, before the fd is sent
//   36   4     max_message_size            client, before the fd is sent
//   40   8     lane_table_offset           client, before the fd is sent
//   48   8     ring_header_offset          client, before the fd is sent
//   56   8     ring_data_offset            client, before the fd is sent
//   64   4     pid (informational)         client, before the fd is sent
//   68   4     uid (informational)         client, before the fd is sent
//   72   8     created_monotonic_ns        client, before the fd is sent
//   80   8     created_realtime_ns         client (same instant as above)
//   88   4     clock_source                client, before the fd is sent
//   92   4     reserved0
//   96   8     tsc_reference               client (TSC at calibration)
//   104  8     tsc_reference_ns            client (CLOCK_MONOTONIC at calibration)
//   112  8     tsc_ns_mult                 client: ns = (tsc-ref) * mult >> shift
//   120  4     tsc_ns_shift
//   124  4     reserved1
//   128  64    process_name (NUL padded)   client, before the fd is sent
//   192  64    (cache line) process-wide counters, see below
//   256  64    (cache line) daemon-written: doorbell_armed
//   320  ...   reserved, zero
//
// The fields up to offset 192 are written once, before the descriptor is sent;
// sendmsg/recvmsg order them before the daemon's reads. The daemon copies them
// at attach and never reads them again (a hostile client could change them).
// uid and pid are informational: the daemon takes identity from SO_PEERCRED.
// ---------------------------------------------------------------------------
struct SegmentHeader {
  std::uint64_t magic;
  std::uint32_t abi_version;
  std::uint32_t header_size;
  std::uint64_t segment_size;
  std::uint32_t lane_count;
  std::uint32_t rings_per_lane;
  std::uint32_t ring_size;
  std::uint32_t max_message_size;
  std::uint64_t lane_table_offset;
  std::uint64_t ring_header_offset;
  std::uint64_t ring_data_offset;
  std::uint32_t pid;
  std::uint32_t uid;
  std::uint64_t created_monotonic_ns;
  std::uint64_t created_realtime_ns;
  std::uint32_t clock_source;
  std::uint32_t reserved0;
  std::uint64_t tsc_reference;
  std::uint64_t tsc_reference_ns;
  std::uint64_t tsc_ns_mult;
  std::uint32_t tsc_ns_shift;
  std::uint32_t reserved1;
  char process_name[kProcessNameSize];

  // Process-wide loss counters, at offset 192. Written by any client thread
  // with fetch_add(relaxed): they are statistics, read by the daemon as hints
  // (relaxed); no other data is published through them.
  alignas(kCacheLine) std::atomic<std::uint64_t> events_dropped_no_lane;  // thread found no free lane
  std::atomic<std::uint64_t> bytes_dropped_no_lane;
  std::atomic<std::uint64_t> events_dropped_not_attached;  // reserved for ABI v1 clients: always 0
  std::atomic<std::uint64_t> lanes_claimed_total;          // lane claims since creation
  std::uint64_t reserved_counters[4];

  // Daemon line, at offset 256. doorbell_armed: the daemon stores 1 when it
  // has drained this client and will sleep until a doorbell (then a seq_cst
  // fence, then it re-reads the submit queues); a client thread that just
  // submitted a ring issues a seq_cst fence and takes the 1 with an exchange
  // before it sends: only one doorbell per arming, none while the daemon is
  // busy. Whichever side comes second sees the other (the fences pair as in
  // Dekker's algorithm); a doorbell lost anyway is covered by the daemon's
  // periodic poll. The creator sets it to 1. Relaxed accesses otherwise.
  alignas(kCacheLine) std::atomic<std::uint32_t> doorbell_armed;
  std::uint8_t reserved_daemon[kCacheLine - 4];
  std::uint8_t reserved_tail[kHeaderRegionSize - 320];
};

// ---------------------------------------------------------------------------
// LaneControl: 1024 bytes each, from lane_table_offset.
//
//   off  size  field
//   0    64    ownership line: state, tid, active_ring, claim_generation, claimed_at_ns
//   64   64    client counters (only the lane's writer thread writes them)
//   128  384   submit queue (client produces, daemon consumes)
//   512  384   free queue   (daemon produces, client consumes)
//   896  128   reserved
// ---------------------------------------------------------------------------
enum class LaneState : std::uint32_t {
  free = 0,     // no thread owns it; rings all in the free queue (daemon-verified)
  active = 1,   // one thread writes it
  retired = 2,  // its thread exited; the daemon drains it and frees it
};

struct alignas(kCacheLine) LaneControl {
  // --- ownership line -----------------------------------------------------
  // state: CAS free->active by a claiming thread (acq_rel: acquires the
  // daemon's release that freed it, so the queues are seen as the daemon left
  // them); store retired by the exiting thread (release: publishes its last
  // submit); CAS retired->free by the daemon (release, after the drain).
  std::atomic<std::uint32_t> state;
  // tid / claim_generation / claimed_at_ns: written relaxed by the claiming
  // thread right after the claim; read relaxed by the daemon as descriptive
  // hints (they are copied into window metadata, never used as indices).
  std::atomic<std::uint32_t> tid;
  // active_ring: lane-local ring number the writer is filling, or
  // kNoActiveRing. Written by the writer thread (release, after the ring's
  // header was reset, so a daemon reading it with acquire sees the reset);
  // read by the daemon only to salvage or flush the committed part.
  std::atomic<std::uint32_t> active_ring;
  std::atomic<std::uint32_t> claim_generation;
  std::atomic<std::uint64_t> claimed_at_ns;
  std::uint8_t reserved_ownership[kCacheLine - 24];

  // --- client counters (one writer: the lane's thread; load+store relaxed,
  // no RMW needed). The daemon reads them relaxed as statistics. ------------
  std::atomic<std::uint64_t> events_written;     // events committed into rings
  std::atomic<std::uint64_t> bytes_written;      // record bytes committed
  std::atomic<std::uint64_t> events_overwritten; // lost to reset with no spare ring
  std::atomic<std::uint64_t> bytes_overwritten;
  std::atomic<std::uint64_t> events_truncated;   // message cut at max_message_size
  std::atomic<std::uint64_t> events_dropped_nested;  // emit re-entered (signal handler)
  std::atomic<std::uint64_t> ring_swaps;         // rings submitted
  std::atomic<std::uint64_t> swaps_without_spare;// ring full and free queue empty

  RingIndexQueue submit_queue;  // producer: lane's writer thread; consumer: daemon
  RingIndexQueue free_queue;    // producer: daemon; consumer: lane's writer thread

  std::uint8_t reserved_tail[128];
};

inline constexpr std::uint32_t kNoActiveRing = 0xFFFFFFFFu;

// ---------------------------------------------------------------------------
// RingHeader: 64 bytes each, from ring_header_offset, indexed by global ring
// number (lane * rings_per_lane + ring).
//
//   off  size  field
//   0    4     state               RingState, written by the edge's actor
//   4    4     committed           bytes of complete records from the ring start
//   8    8     generation          +1 at every activation and every reset
//   16   8     sequence            lane's activation number of this ring
//   24   8     overwritten_events  lost to overwrite while this ring was active
//   32   8     overwritten_bytes
//   40   4     start               offset of the oldest record when wrapped, else 0
//   44   4     wrap_end            end of the older records when wrapped, else 0
//   48   8     persisted_sequence  [daemon] `sequence` of the activation persisted_events is about
//   56   4     persisted_events    [daemon] events of that activation already written (by ordinal)
//   60   4     reserved
//
// A ring is filled from offset 0. When it is full and the lane has no spare
// ring, the writer WRAPS: it keeps writing from offset 0 and evicts the
// oldest records ahead of it (counted in overwritten_*), so the ring always
// holds the most recent events. Its records are then, oldest first,
// [start, wrap_end) followed by [0, committed), with committed <= start <=
// wrap_end <= ring_size. Not wrapped: [0, committed), start = wrap_end = 0.
//
// Ordinals: the events of one activation are numbered from 0 in write order;
// the oldest event still in the ring has ordinal overwritten_events. The
// daemon may write a prefix of an ACTIVE ring early (--flush-after, daemon
// shutdown) and records how far in persisted_events, tagged with the
// activation's sequence, so neither it nor a restarted daemon writes those
// events again when the ring is handed over. Only a daemon writes these two
// fields; the client never reads them.
// ---------------------------------------------------------------------------
enum class RingState : std::uint32_t {
  free = 0,       // in the free queue (or never used)
  active = 1,     // the lane's writer fills it
  submitted = 2,  // in the submit queue
  held = 3,       // popped by the daemon, deciding or held as pre-roll
};

struct alignas(kCacheLine) RingHeader {
  // state: written relaxed by the actor taking an edge, BEFORE the queue
  // push/pop that performs it (the queue's release/acquire orders it). Used
  // only by a restarted daemon to find HELD rings and for diagnostics; never
  // trusted for memory safety.
  std::atomic<std::uint32_t> state;
  // committed: the writer stores the end of the last complete record with
  // release after writing it; a reader loading it with acquire sees every
  // byte below it. Never above ring_size on a well-formed segment.
  std::atomic<std::uint32_t> committed;
  // generation: seqlock for readers of an ACTIVE ring (flush, salvage). The
  // writer bumps it (relaxed) and issues a release fence before it rewrites
  // bytes a reader may be copying (activation, wrap, eviction); a reader loads it
  // (acquire) before and (after an acquire fence) again after copying: equal
  // values mean the copy is one consistent prefix.
  std::atomic<std::uint64_t> generation;
  // sequence / overwritten_* / start / wrap_end: written relaxed by the writer
  // at activation and when it wraps or evicts (after the generation bump),
  // published to the daemon by the submit push (release) or, for a salvage
  // read, ordered by the generation seqlock.
  std::atomic<std::uint64_t> sequence;
  std::atomic<std::uint64_t> overwritten_events;
  std::atomic<std::uint64_t> overwritten_bytes;
  std::atomic<std::uint32_t> start;
  std::atomic<std::uint32_t> wrap_end;
  // persisted_*: written relaxed by the daemon (the only writer), read by a
  // daemon (this one, or the next after a restart) as its own bookkeeping;
  // a client that scribbles here only hides or repeats its own events.
  std::atomic<std::uint64_t> persisted_sequence;
  std::atomic<std::uint32_t> persisted_events;
  std::uint8_t reserved[4];
};

// ---------------------------------------------------------------------------
// Layout facts. Any change here is an ABI change.
// ---------------------------------------------------------------------------
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4 && alignof(std::atomic<std::uint32_t>) == 4);
static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && alignof(std::atomic<std::uint64_t>) == 8);

static_assert(std::is_standard_layout_v<SegmentHeader>);
static_assert(sizeof(SegmentHeader) == kHeaderRegionSize);
static_assert(offsetof(SegmentHeader, magic) == 0);
static_assert(offsetof(SegmentHeader, abi_version) == 8);
static_assert(offsetof(SegmentHeader, header_size) == 12);
static_assert(offsetof(SegmentHeader, segment_size) == 16);
static_assert(offsetof(SegmentHeader, lane_count) == 24);
static_assert(offsetof(SegmentHeader, rings_per_lane) == 28);
static_assert(offsetof(SegmentHeader, ring_size) == 32);
static_assert(offsetof(SegmentHeader, max_message_size) == 36);
static_assert(offsetof(SegmentHeader, lane_table_offset) == 40);
static_assert(offsetof(SegmentHeader, ring_header_offset) == 48);
static_assert(offsetof(SegmentHeader, ring_data_offset) == 56);
static_assert(offsetof(SegmentHeader, pid) == 64);
static_assert(offsetof(SegmentHeader, uid) == 68);
static_assert(offsetof(SegmentHeader, created_monotonic_ns) == 72);
static_assert(offsetof(SegmentHeader, created_realtime_ns) == 80);
static_assert(offsetof(SegmentHeader, clock_source) == 88);
static_assert(offsetof(SegmentHeader, tsc_reference) == 96);
static_assert(offsetof(SegmentHeader, tsc_reference_ns) == 104);
static_assert(offsetof(SegmentHeader, tsc_ns_mult) == 112);
static_assert(offsetof(SegmentHeader, tsc_ns_shift) == 120);
static_assert(offsetof(SegmentHeader, process_name) == 128);
static_assert(offsetof(SegmentHeader, events_dropped_no_lane) == 192);
static_assert(offsetof(SegmentHeader, bytes_dropped_no_lane) == 200);
static_assert(offsetof(SegmentHeader, events_dropped_not_attached) == 208);
static_assert(offsetof(SegmentHeader, lanes_claimed_total) == 216);
static_assert(offsetof(SegmentHeader, doorbell_armed) == 256);
static_assert(offsetof(SegmentHeader, reserved_tail) == 320);

static_assert(std::is_standard_layout_v<LaneControl>);
static_assert(sizeof(LaneControl) == 1024);
static_assert(alignof(LaneControl) == kCacheLine);
static_assert(offsetof(LaneControl, state) == 0);
static_assert(offsetof(LaneControl, tid) == 4);
static_assert(offsetof(LaneControl, active_ring) == 8);
static_assert(offsetof(LaneControl, claim_generation) == 12);
static_assert(offsetof(LaneControl, claimed_at_ns) == 16);
static_assert(offsetof(LaneControl, events_written) == 64);
static_assert(offsetof(LaneControl, swaps_without_spare) == 120);
static_assert(offsetof(LaneControl, submit_queue) == 128);
static_assert(offsetof(LaneControl, free_queue) == 512);
static_assert(offsetof(LaneControl, reserved_tail) == 896);
static_assert(sizeof(RingIndexQueue) == 384);

static_assert(std::is_standard_layout_v<RingHeader>);
static_assert(sizeof(RingHeader) == 64);
static_assert(offsetof(RingHeader, state) == 0);
static_assert(offsetof(RingHeader, committed) == 4);
static_assert(offsetof(RingHeader, generation) == 8);
static_assert(offsetof(RingHeader, sequence) == 16);
static_assert(offsetof(RingHeader, overwritten_events) == 24);
static_assert(offsetof(RingHeader, overwritten_bytes) == 32);
static_assert(offsetof(RingHeader, start) == 40);
static_assert(offsetof(RingHeader, wrap_end) == 44);
static_assert(offsetof(RingHeader, persisted_sequence) == 48);
static_assert(offsetof(RingHeader, persisted_events) == 56);

// All-zero means free/empty: the zero value of each state enum is "free".
static_assert(static_cast<std::uint32_t>(LaneState::free) == 0);
static_assert(static_cast<std::uint32_t>(RingState::free) == 0);

}  // namespace preroll::shm
