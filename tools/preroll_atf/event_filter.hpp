// The event filters that events, cat and export share (--window, --tid,
// --since, --until, --level, --pattern, --marked). They are parsed once from
// the command line (EventFilter), then bound to each file (FileFilter): a
// wall-clock bound goes through the file's own clock pair, and a pattern's
// text through the file's own policy, where it may have another id or none.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy_patterns.hpp"
#include "preroll/atf/reader.hpp"

namespace preroll::atf_tool {

// One end of a time range: wall-clock UTC (an ISO-8601 argument) or
// CLOCK_MONOTONIC (a plain number of nanoseconds). Both ends are inclusive.
struct TimeBound {
  bool monotonic = false;
  std::int64_t wall_ns = 0;
  std::uint64_t monotonic_ns = 0;
};

struct EventFilter {
  std::set<std::uint64_t> windows;    // empty: every window
  std::set<std::uint32_t> tids;       // empty: every thread
  std::optional<TimeBound> since;
  std::optional<TimeBound> until;
  std::optional<std::uint8_t> min_level;
  std::vector<std::string> patterns;  // ids or texts, any of them; empty: no pattern filter
  bool marked_only = false;
};

// Adds the filter options to a command's options.
void add_filter_options(boost::program_options::options_description& options);

// Reads them back. Throws UsageError naming the option for a malformed value.
EventFilter parse_filter(const boost::program_options::variables_map& options);

// The filter as it applies to one file. Holds on to `filter` (not to the
// header, so the file may be reopened).
class FileFilter {
 public:
  FileFilter(const EventFilter& filter, const atf::FileHeader& header, const PolicyPatterns& patterns);

  // --window and --tid: whether any event of the window can be selected.
  [[nodiscard]] bool selects_window(const atf::WindowMeta& window) const;
  // Whether the window's span [start_ns, end_ns] meets the time range.
  [[nodiscard]] bool window_in_time_range(const atf::WindowMeta& window) const;
  // Every filter; the caller has checked selects_window for the event's window.
  [[nodiscard]] bool selects_event(const atf::StoredEvent& event) const;

  // --pattern arguments this file's policy does not name.
  [[nodiscard]] const std::vector<std::string>& unresolved_patterns() const noexcept { return unresolved_; }

 private:
  [[nodiscard]] bool in_time_range(std::uint64_t monotonic_ns) const;
  [[nodiscard]] std::int64_t wall_ns(std::uint64_t monotonic_ns) const noexcept;

  const EventFilter* filter_;       // the command's, outlives this
  atf::FileHeader clock_;           // only the clock pair, what wall_clock_ns reads
  std::set<std::uint16_t> pattern_fields_;  // EventView::pattern values that match
  std::vector<std::string> unresolved_;
};

[[nodiscard]] bool is_marked(const atf::StoredEvent& event) noexcept;

}  // namespace preroll::atf_tool
