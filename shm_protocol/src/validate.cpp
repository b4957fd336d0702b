#include "preroll/shm/validate.hpp"

#include <cstring>

namespace preroll::shm {

__extension__ typedef unsigned __int128 u128;

std::uint64_t HeaderSnapshot::to_monotonic_ns(std::uint64_t raw) const noexcept {
  if (clock_source != ClockSource::tsc) return raw;
  // ns = ref_ns + (tsc - ref) * mult >> shift, in 128 bits so a long run
  // cannot overflow; a TSC below the reference (another socket's skew) clamps.
  if (raw <= tsc_reference) return tsc_reference_ns;
  const u128 delta = static_cast<u128>(raw - tsc_reference) * tsc_ns_mult;
  return tsc_reference_ns + static_cast<std::uint64_t>(delta >> tsc_ns_shift);
}

std::variant<HeaderSnapshot, std::string> snapshot_header(const void* base, std::uint64_t mapped_size) {
  if (mapped_size < kHeaderRegionSize) return std::string("segment smaller than its header");
  // Copy the write-once fields (everything before the counters line) so a
  // client changing them later cannot change what we checked.
  SegmentHeader h;
  std::memcpy(static_cast<void*>(&h), base, offsetof(SegmentHeader, events_dropped_no_lane));

  if (h.magic != kSegmentMagic) return std::string("bad segment magic");
  if (h.abi_version != kAbiVersion)
    return "unsupported ABI version " + std::to_string(h.abi_version) + " (this daemon speaks " +
           std::to_string(kAbiVersion) + ")";
  if (h.header_size != kHeaderRegionSize) return "bad header size " + std::to_string(h.header_size);
  Geometry g;
  g.lane_count = h.lane_count;
  g.rings_per_lane = h.rings_per_lane;
  g.ring_size = h.ring_size;
  g.max_message_size = h.max_message_size;
  if (auto err = check_geometry(g)) return "bad geometry: " + *err;
  const Layout l = compute_layout(g);
  if (h.lane_table_offset != l.lane_table_offset || h.ring_header_offset != l.ring_header_offset ||
      h.ring_data_offset != l.ring_data_offset)
    return std::string("region offsets do not match the geometry");
  if (h.segment_size != l.segment_size || h.segment_size != mapped_size)
    return "segment size " + std::to_string(h.segment_size) + " does not match the geometry (" +
           std::to_string(l.segment_size) + ") and the memfd (" + std::to_string(mapped_size) + ")";
  if (h.clock_source != static_cast<std::uint32_t>(ClockSource::monotonic) &&
      h.clock_source != static_cast<std::uint32_t>(ClockSource::tsc))
    return "unknown clock source " + std::to_string(h.clock_source);
  if (h.clock_source == static_cast<std::uint32_t>(ClockSource::tsc) && (h.tsc_ns_mult == 0 || h.tsc_ns_shift > 63))
    return std::string("invalid TSC calibration");

  HeaderSnapshot s;
  s.layout = l;
  s.pid_untrusted = h.pid;
  s.uid_untrusted = h.uid;
  s.created_monotonic_ns = h.created_monotonic_ns;
  s.created_realtime_ns = h.created_realtime_ns;
  s.clock_source = static_cast<ClockSource>(h.clock_source);
  s.tsc_reference = h.tsc_reference;
  s.tsc_reference_ns = h.tsc_reference_ns;
  s.tsc_ns_mult = h.tsc_ns_mult;
  s.tsc_ns_shift = h.tsc_ns_shift;
  for (std::size_t i = 0; i < kProcessNameSize && h.process_name[i] != '\0'; ++i) {
    const char c = h.process_name[i];
    s.process_name.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return s;
}

std::optional<std::uint32_t> checked_committed(std::uint32_t committed_untrusted, std::uint32_t ring_size) noexcept {
  if (committed_untrusted > ring_size || committed_untrusted % kRecordAlign != 0) return std::nullopt;
  return committed_untrusted;
}

std::optional<RingExtent> checked_extent(std::uint32_t start_untrusted, std::uint32_t wrap_end_untrusted,
                                         std::uint32_t committed_untrusted, std::uint32_t ring_size) noexcept {
  const auto committed = checked_committed(committed_untrusted, ring_size);
  if (!committed) return std::nullopt;
  RingExtent e;
  e.newer_end = *committed;
  if (wrap_end_untrusted == 0) {
    if (start_untrusted != 0) return std::nullopt;
    return e;
  }
  const auto start = checked_committed(start_untrusted, ring_size);
  const auto wrap_end = checked_committed(wrap_end_untrusted, ring_size);
  if (!start || !wrap_end || *start > *wrap_end || *committed > *start) return std::nullopt;
  e.older_begin = *start;
  e.older_end = *wrap_end;
  return e;
}

}  // namespace preroll::shm
