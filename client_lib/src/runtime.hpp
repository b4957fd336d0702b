// The process-wide side of the client library: the segment this process
// captures into, its lanes' writers, the daemon link, and the process events
// that touch them all (first use, thread exit, fork, exit).
//
// Created on the first event of the process (cold, may allocate and make
// system calls), never destroyed while the process runs: threads may still
// emit during exit, so the mapping stays until the kernel removes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "daemon_link.hpp"
#include "lane_writer.hpp"
#include "preroll/preroll.h"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"

namespace preroll::client {

void forget_runtime_in_child() noexcept;

class Runtime {
 public:
  // The runtime, created on first call; nullptr when capture is disabled,
  // could not start, or was shut down.
  static Runtime* get() noexcept;
  // Without creating it.
  static Runtime* peek() noexcept;

  // Claims a free lane for the calling thread (nullptr: none free, counted).
  LaneWriter* claim_lane() noexcept;

  void shutdown() noexcept;
  void fill_counters(preroll_counters& out) const noexcept;

  [[nodiscard]] const shm::SegmentRef& segment() const noexcept { return seg_; }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }

  Runtime(const shm::Geometry& g, std::uint64_t epoch);

 private:
  shm::UniqueFd memfd_;
  shm::MappedSegment mapping_;
  shm::SegmentRef seg_;
  std::unique_ptr<DaemonLink> link_;
  std::unique_ptr<LaneWriter[]> writers_;
  std::atomic<std::uint32_t> claims_{0};
  std::uint64_t epoch_;

  friend void forget_runtime_in_child() noexcept;
};

// Counts an event that could not be captured because capture is off or the
// segment could not be created (process-local: there is no segment).
void count_dropped_disabled() noexcept;

// Hot-path thread state, defined in emit_path.cpp.
LaneWriter* claim_lane_for_this_thread() noexcept;
void forget_thread_lane() noexcept;
LaneWriter* this_thread_lane() noexcept;

}  // namespace preroll::client
