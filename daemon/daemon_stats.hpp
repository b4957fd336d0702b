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

  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace preroll::daemon
