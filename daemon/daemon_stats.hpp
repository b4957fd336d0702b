// Daemon-wide counters. Monotonic; written by the io thread and the
// persistence worker with relaxed increments (they order nothing else) and
// read as statistics.
#pragma once

#include <atomic>
#include <cstdint>

namespace preroll::daemon {

struct DaemonStats {
  std::atomic<std::uint64_t> clients_attached_total{0};
  std::atomic<std::uint64_t> clients_current{0};
  std::atomic<std::uint64_t> clients_rejected{0};     // bad HELLO, bad segment
  std::atomic<std::uint64_t> clients_faulty{0};       // corrupt segment found later
  std::atomic<std::uint64_t> protocol_errors{0};
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
  std::atomic<std::uint64_t> events_lost_overwrite{0};
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

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace preroll::daemon
