// How one event is shown: an aligned terminal line, or a JSON object (events
// --json, cat --json, export --format jsonl all write the same keys).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "input_files.hpp"

namespace preroll::atf_tool {

// "name[pid]", escaped for a terminal: what cat prints to say which process.
[[nodiscard]] std::string source_label(const atf::FileHeader& header);

class EventLineFormat {
 public:
  // `raw`: CLOCK_MONOTONIC ns instead of wall-clock time. `source_width`: 0
  // for no process column, else the width to pad source_label to (the
  // widest of the files, known before the first line, so lines can be
  // printed as they come and still line up).
  EventLineFormat(bool raw, std::size_t source_width);

  // Columns: time, [process,] level, tid/lane, marker ('*' marked, '~'
  // message truncated), then "name: message".
  [[nodiscard]] std::string line(const SourceFile& file, const atf::WindowMeta& window,
                                 const atf::StoredEvent& event) const;

 private:
  bool raw_;
  std::size_t source_width_;
};

// window, lane, tid, ts_ns, time, level, kind, flags, marked, truncated,
// pattern (id or null), pattern_text (or null), name, message, and
// name_hex / message_hex when the bytes are not UTF-8. `with_source` adds
// file, pid and process.
[[nodiscard]] nlohmann::ordered_json event_json(const SourceFile& file, const atf::WindowMeta& window,
                                        const atf::StoredEvent& event, bool with_source);

// One line of JSON; bytes that are not UTF-8 become U+FFFD, never invalid JSON.
[[nodiscard]] std::string json_line(const nlohmann::ordered_json& value);

}  // namespace preroll::atf_tool
