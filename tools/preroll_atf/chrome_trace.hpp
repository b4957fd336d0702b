// Chrome trace-event JSON, the "JSON Object Format" that ui.perfetto.dev and
// chrome://tracing open: {"displayTimeUnit", "otherData", "traceEvents": [...]}.
//
// Mapping: a process per traced process (pid from the file header, a
// process_name metadata event), a track per thread (tid, thread_name "lane
// N"), a window as a complete event ("X") spanning its first to last event on
// its thread's track, an event as a thread-scoped instant ("i"). Marked
// events have category "marked" and cname "terrible" (red in
// chrome://tracing; Perfetto ignores cname, filter on the category there).
//
// Elements are written as they come, one per line, so a file of any size is
// exported in the memory of one window. "ts" and "dur" are microseconds
// written as exact decimals with three places, not doubles: keeping every
// nanosecond needs up to 19 significant digits.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>

#include "input_files.hpp"

namespace preroll::atf_tool {

class ChromeTrace {
 public:
  ChromeTrace(std::ostream& out, TimeBase base);

  // The file's process; its metadata the first time that process is seen.
  void begin_file(const SourceFile& file);
  void window(const atf::WindowMeta& window);
  void event(const atf::WindowMeta& window, const atf::StoredEvent& event);
  // Closes the array and the object. Nothing may be written after it.
  void finish();

 private:
  void ensure_thread(std::uint32_t tid, std::uint32_t lane);
  // Writes `object` with the time fields (microseconds, exact) first;
  // metadata events have none.
  void element(const nlohmann::ordered_json& object, std::optional<std::int64_t> ts_ns = std::nullopt,
               std::optional<std::int64_t> dur_ns = std::nullopt);

  std::ostream& out_;
  TimeBase base_;
  bool first_element_ = true;
  const SourceFile* file_ = nullptr;
  std::uint32_t pid_ = 0;  // the trace's pid for file_
  // Two files name one process when boot, pid and start time agree (a
  // rotated file); a pid reused by another process gets a pid of its own.
  std::map<std::string, std::uint32_t> pid_of_process_;
  std::set<std::uint32_t> pids_used_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> threads_named_;
};

// "1234.567": ns as microseconds with three decimals, exactly.
[[nodiscard]] std::string micros_text(std::int64_t ns);

}  // namespace preroll::atf_tool
