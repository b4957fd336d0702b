#include "time_base.hpp"

namespace preroll::atf_tool {

TimeBase common_time_base(const std::vector<const atf::FileHeader*>& headers) {
  for (const atf::FileHeader* h : headers) {
    if (h->boot_id != headers.front()->boot_id) return TimeBase::wall_clock;
  }
  return TimeBase::monotonic;
}

std::string_view to_string(TimeBase base) noexcept {
  return base == TimeBase::monotonic ? "CLOCK_MONOTONIC" : "CLOCK_REALTIME";
}

std::int64_t timeline_ns(TimeBase base, const atf::FileHeader& header, std::uint64_t monotonic_ns) noexcept {
  if (base == TimeBase::wall_clock) return atf::wall_clock_ns(header, monotonic_ns);
  return static_cast<std::int64_t>(monotonic_ns);
}

}  // namespace preroll::atf_tool
