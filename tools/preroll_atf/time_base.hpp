// One time line for events of several files. CLOCK_MONOTONIC is exact and
// shared by every process of one boot, so files of one boot are placed by it;
// files of different boots share no monotonic clock and are placed by
// wall-clock time (each file's own clock pair), which is only as good as the
// clock was between the files' starts.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "preroll/atf/types.hpp"

namespace preroll::atf_tool {

enum class TimeBase {
  monotonic,   // every file has the same boot id
  wall_clock,  // they do not
};

[[nodiscard]] TimeBase common_time_base(const std::vector<const atf::FileHeader*>& headers);

[[nodiscard]] std::string_view to_string(TimeBase base) noexcept;  // "CLOCK_MONOTONIC" / "CLOCK_REALTIME"

// A timestamp on the common time line. A monotonic value above 2^63 (only a
// damaged file has one) wraps negative: it is misplaced, nothing worse.
[[nodiscard]] std::int64_t timeline_ns(TimeBase base, const atf::FileHeader& header, std::uint64_t monotonic_ns) noexcept;

}  // namespace preroll::atf_tool
