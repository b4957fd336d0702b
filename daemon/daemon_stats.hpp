// Daemon-wide counters. Monotonic; written by the io thread and the
// persistence worker with relaxed increments (they order nothing else) and
// read as statistics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "latency_histogram.hpp"
#include "preroll/shm/segment_counters.hpp"

namespace preroll::daemon {

// What the client library counted in a segment (its lane and process
// counters, abi.hpp): capture volume and losses by cause. A hostile client
// can only lie about itself.
using CaptureCounters = shm::SegmentCounterTotals;

// The last event the policy or a client marked (for `prerollctl stats`).
struct LastMark {
  std::uint64_t monotonic_ns = 0;  // 0: none yet
  std::uint32_t pid = 0;
  std::int32_t pattern_id = -1;    // -1: marked by level or by the client
  std::string excerpt;             // first 120 bytes of the message
};

struct DaemonStats {
  std::atomic<std::uint64_t> clients_attached_total{0};
  std::atomic<std::uint64_t> clients_current{0};
  // Clients whose last windows are written and files closed (worker, after
  // finalize): equal to clients_attached_total when nothing is in flight.
  std::atomic<std::uint64_t> clients_detached_total{0};
  std::atomic<std::uint64_t> clients_rejected{0};     // bad HELLO, bad segment
  std::atomic<std::uint64_t> clients_faulty{0};       // corrupt segment found later
  std::atomic<std::uint64_t> protocol_errors{0};
  // What the limits turned away (docs/reliability.md, "What a local user
  // cannot do"). Written by the io thread only.
  std::atomic<std::uint64_t> registration_connections{0};  // gauge: open, attached or not
  std::atomic<std::uint64_t> hello_timeouts{0};            // closed: no valid HELLO within --hello-timeout
  std::atomic<std::uint64_t> refused_max_clients{0};       // refused at --max-clients
  std::atomic<std::uint64_t> refused_per_user{0};          // refused at --max-clients-per-user
  std::atomic<std::uint64_t> refused_quarantined{0};       // a process found faulty, back too soon
  std::atomic<std::uint64_t> control_connections{0};       // gauge
  std::atomic<std::uint64_t> control_refused{0};           // refused at --max-control-connections
  std::atomic<std::uint64_t> accept_errors{0};             // accept(2) failed (EMFILE ...) on either socket
  std::atomic<std::uint64_t> windows_seen{0};
  std::atomic<std::uint64_t> windows_persisted{0};
  std::atomic<std::uint64_t> windows_discarded{0};
  std::atomic<std::uint64_t> windows_held{0};         // held back as pre-roll (later persisted or discarded)
  std::atomic<std::uint64_t> windows_failed{0};       // persist failed (write error)
  std::atomic<std::uint64_t> rings_corrupt{0};
  std::atomic<std::uint64_t> events_seen{0};
  std::atomic<std::uint64_t> events_marked{0};
  std::atomic<std::uint64_t> events_persisted{0};
  std::atomic<std::uint64_t> bytes_seen{0};           // ring bytes handed over
  std::atomic<std::uint64_t> bytes_persisted{0};      // ring bytes of persisted windows
  // Storage (FileStore). Gauges are stored, not added.
  std::atomic<std::uint64_t> files_created{0};
  std::atomic<std::uint64_t> files_rotated{0};
  std::atomic<std::uint64_t> files_deleted{0};        // by the quota
  std::atomic<std::uint64_t> bytes_deleted{0};
  std::atomic<std::uint64_t> files_open{0};           // gauge
  std::atomic<std::uint64_t> disk_usage_bytes{0};     // gauge: *.atf bytes in the output directory
  std::atomic<std::uint64_t> disk_quota_bytes{0};     // gauge: 0 = none
  std::atomic<std::uint64_t> write_errors{0};         // failed creates, appends, syncs, closes
  std::atomic<std::uint64_t> windows_dropped_quota{0};  // not written: quota reached, nothing deletable
  std::atomic<std::uint64_t> file_bytes_written{0};   // bytes appended to files (after compression)
  std::atomic<std::uint64_t> event_bytes_raw{0};      // EVENTS payload bytes before compression
  std::atomic<std::uint64_t> fsyncs{0};

  // Persisted windows by keep reason (index = atf::KeepReason value).
  std::array<std::atomic<std::uint64_t>, 16> windows_by_reason{};
  std::atomic<std::uint64_t> window_duration_ns_total{0};  // end - start of persisted windows
  // Scan, mark and select of one handed-over ring (writing excluded).
  LatencyHistogram decision_latency;
  std::atomic<std::uint64_t> marking_ns_total{0};      // in the pattern matcher
  std::atomic<std::uint64_t> marking_events_total{0};  // events it looked at
  // What the clients' libraries counted (CaptureCounters), summed over every
  // client ever attached: each drain adds what changed since the last one.
  std::atomic<std::uint64_t> capture_events_written{0};
  std::atomic<std::uint64_t> capture_bytes_written{0};
  std::atomic<std::uint64_t> capture_events_overwritten{0};
  std::atomic<std::uint64_t> capture_events_truncated{0};
  std::atomic<std::uint64_t> capture_events_dropped_nested{0};
  std::atomic<std::uint64_t> capture_events_dropped_no_lane{0};
  std::atomic<std::uint64_t> capture_ring_swaps{0};
  std::atomic<std::uint64_t> capture_swaps_without_spare{0};
  mutable std::mutex last_mark_mutex;
  LastMark last_mark;

  [[nodiscard]] LastMark last_marked() const {
    std::lock_guard lock(last_mark_mutex);
    return last_mark;
  }
  void set_last_marked(LastMark m) {
    std::lock_guard lock(last_mark_mutex);
    last_mark = std::move(m);
  }

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace preroll::daemon
