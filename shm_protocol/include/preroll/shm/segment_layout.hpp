// Segment geometry: where each region lies for a given lane count, rings per
// lane and ring size, and typed access to a mapped segment.
//
// The client computes the layout to create a segment; the daemon recomputes it
// from the (validated) geometry in the header and requires the header's
// offsets to match exactly, so it never uses an offset it did not derive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "preroll/shm/abi.hpp"

namespace preroll::shm {

struct Geometry {
  std::uint32_t lane_count = 64;
  std::uint32_t rings_per_lane = 8;
  std::uint32_t ring_size = 64 * 1024;  // bytes, multiple of kPageSize
  std::uint32_t max_message_size = 4096;
};

struct Layout {
  Geometry geometry;
  std::uint64_t lane_table_offset = 0;
  std::uint64_t ring_header_offset = 0;
  std::uint64_t ring_data_offset = 0;
  std::uint64_t segment_size = 0;
};

// Checks the geometry against the ABI bounds; returns an error text or
// nullopt. max_message_size must leave room for a record with a full name.
[[nodiscard]] std::optional<std::string> check_geometry(const Geometry& g);

// Computes the layout of a valid geometry (check_geometry first).
[[nodiscard]] Layout compute_layout(const Geometry& g) noexcept;

class SegmentRef;

// Initialises a zero-filled segment: the write-once geometry part of the
// header (identity, clock and name are the creator's to fill) and every
// lane's free queue holding all its rings. The creator does this before the
// descriptor is sent, which orders these writes before the daemon's reads.
void init_segment(const SegmentRef& seg);

// Typed access to a mapped segment. Pure address arithmetic: callers pass
// indices they have already checked against the layout.
class SegmentRef {
 public:
  SegmentRef() = default;
  SegmentRef(void* base, const Layout& layout) noexcept
      : base_(static_cast<unsigned char*>(base)), layout_(layout) {}

  [[nodiscard]] SegmentHeader& header() const noexcept { return *reinterpret_cast<SegmentHeader*>(base_); }
  [[nodiscard]] LaneControl& lane(std::uint32_t lane) const noexcept {
    return reinterpret_cast<LaneControl*>(base_ + layout_.lane_table_offset)[lane];
  }
  [[nodiscard]] std::uint32_t ring_number(std::uint32_t lane, std::uint32_t ring) const noexcept {
    return lane * layout_.geometry.rings_per_lane + ring;
  }
  [[nodiscard]] RingHeader& ring_header(std::uint32_t lane, std::uint32_t ring) const noexcept {
    return reinterpret_cast<RingHeader*>(base_ + layout_.ring_header_offset)[ring_number(lane, ring)];
  }
  [[nodiscard]] unsigned char* ring_data(std::uint32_t lane, std::uint32_t ring) const noexcept {
    return base_ + layout_.ring_data_offset +
           static_cast<std::uint64_t>(ring_number(lane, ring)) * layout_.geometry.ring_size;
  }
  [[nodiscard]] const Layout& layout() const noexcept { return layout_; }
  [[nodiscard]] unsigned char* base() const noexcept { return base_; }

 private:
  unsigned char* base_ = nullptr;
  Layout layout_{};
};

}  // namespace preroll::shm
