#include "event_format.hpp"

#include <algorithm>

#include "text.hpp"

namespace preroll::atf_tool {

namespace {

using atf::StoredEvent;
namespace flags = atf::event_flags;

void pad_left(std::string& out, const std::string& cell, std::size_t width) {
  if (cell.size() < width) out.append(width - cell.size(), ' ');
  out += cell;
}

void pad_right(std::string& out, const std::string& cell, std::size_t width) {
  out += cell;
  if (cell.size() < width) out.append(width - cell.size(), ' ');
}

// Text that is not UTF-8 is shown with U+FFFD in its place (json_line's
// replace handler); the exact bytes then go in a second key as hex.
void put_text(nlohmann::ordered_json& object, const char* key, const std::string& bytes) {
  object[key] = bytes;
  if (!is_valid_utf8(bytes)) object[std::string(key) + "_hex"] = hex_bytes(bytes);
}

}  // namespace

std::string source_label(const atf::FileHeader& header) {
  return escape_text(header.process_name) + "[" + std::to_string(header.pid) + "]";
}

EventLineFormat::EventLineFormat(bool raw, std::size_t source_width) : raw_(raw), source_width_(source_width) {}

std::string EventLineFormat::line(const SourceFile& file, const atf::WindowMeta& window, const StoredEvent& e) const {
  // Wall-clock times are all one width; monotonic ns reach 16 digits after
  // 115 days of uptime, rarely, and then only push that line over.
  constexpr std::size_t kRawTimeWidth = 15;
  constexpr std::size_t kLevelWidth = 5;  // "error"
  constexpr std::size_t kTidWidth = 7;    // pid_max is 4194304
  constexpr std::size_t kLaneWidth = 3;

  std::string out;
  if (raw_) {
    pad_left(out, std::to_string(e.timestamp_ns), kRawTimeWidth);
  } else {
    out += iso_time_ns(atf::wall_clock_ns(file.header, e.timestamp_ns));
  }
  out += "  ";
  if (source_width_ > 0) {
    pad_right(out, source_label(file.header), source_width_);
    out += "  ";
  }
  pad_right(out, atf::level_name(e.level), kLevelWidth);
  out += "  ";
  pad_left(out, std::to_string(window.tid), kTidWidth);
  out += '/';
  pad_right(out, std::to_string(window.lane), kLaneWidth);
  out += ' ';
  out += is_marked(e) ? '*' : ' ';
  out += (e.flags & flags::truncated) != 0 ? '~' : ' ';
  out += "  ";
  if (!e.name.empty()) out += escape_text(e.name) + ": ";
  out += escape_text(e.message);
  return out;
}

nlohmann::ordered_json event_json(const SourceFile& file, const atf::WindowMeta& window, const StoredEvent& e,
                          bool with_source) {
  nlohmann::ordered_json object;
  if (with_source) {
    object["file"] = file.path;
    object["pid"] = file.header.pid;
    object["process"] = file.header.process_name;
  }
  object["window"] = window.window_id;
  object["lane"] = window.lane;
  object["tid"] = window.tid;
  object["ts_ns"] = e.timestamp_ns;
  object["time"] = iso_time_ns(atf::wall_clock_ns(file.header, e.timestamp_ns));
  object["level"] = atf::level_name(e.level);
  object["kind"] = e.kind;
  object["flags"] = e.flags;
  object["marked"] = is_marked(e);
  object["truncated"] = (e.flags & flags::truncated) != 0;
  object["pattern"] = nullptr;
  object["pattern_text"] = nullptr;
  if (const auto id = pattern_id_of(e.pattern)) {
    object["pattern"] = *id;
    if (const std::string* text = file.patterns.text(*id)) object["pattern_text"] = *text;
  }
  put_text(object, "name", e.name);
  put_text(object, "message", e.message);
  return object;
}

std::string json_line(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace preroll::atf_tool
