// Client-library tests: the records of the calling thread's active ring.
#pragma once

#include <catch2/catch.hpp>

#include "preroll/shm/validate.hpp"
#include "ring_reader.hpp"
#include "runtime.hpp"

namespace preroll::test {

// Calls fn(const shm::RecordView&) for each record of the calling thread's
// active ring, oldest first (the thread has emitted at least once).
template <class Fn>
void read_active_ring(Fn&& fn) {
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  const auto& seg = rt->segment();
  const auto lane = client::this_thread_lane()->lane();
  const auto ring = seg.lane(lane).active_ring.load();
  read_ring(seg, lane, ring, fn);
}

}  // namespace preroll::test
