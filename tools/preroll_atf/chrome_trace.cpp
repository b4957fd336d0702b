#include "chrome_trace.hpp"

#include <cstdio>

#include "event_format.hpp"

namespace preroll::atf_tool {

namespace {

using nlohmann::ordered_json;

// Linux pids stay below 2^22 (PID_MAX_LIMIT); pids made up for a reused pid
// are above every real one and keep the real pid in their low bits.
constexpr std::uint32_t kPidLimit = 1u << 22;

}  // namespace

std::string micros_text(std::int64_t ns) {
  // Unsigned magnitude: -INT64_MIN does not fit in int64.
  const bool negative = ns < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  char text[32];
  std::snprintf(text, sizeof text, "%s%llu.%03llu", negative ? "-" : "", static_cast<unsigned long long>(magnitude / 1000),
                static_cast<unsigned long long>(magnitude % 1000));
  return text;
}

ChromeTrace::ChromeTrace(std::ostream& out, TimeBase base) : out_(out), base_(base) {
  const ordered_json other = {
      {"generator", "preroll-atf"},
      {"clock", to_string(base)},
      {"ts_unit", "microseconds of the clock above"},
  };
  out_ << R"({"displayTimeUnit":"ns","otherData":)" << json_line(other) << R"(,"traceEvents":[)";
}

void ChromeTrace::begin_file(const SourceFile& file) {
  file_ = &file;
  const atf::FileHeader& h = file.header;
  const std::string identity = h.boot_id + '\0' + std::to_string(h.pid) + '\0' + std::to_string(h.process_start_ns);
  const auto known = pid_of_process_.find(identity);
  if (known != pid_of_process_.end()) {
    pid_ = known->second;
    return;
  }
  pid_ = h.pid;
  for (std::uint32_t k = 1; pids_used_.count(pid_) != 0; ++k) pid_ = h.pid % kPidLimit + k * kPidLimit;
  pids_used_.insert(pid_);
  pid_of_process_.emplace(identity, pid_);

  std::string name = h.process_name.empty() ? "pid " + std::to_string(h.pid) : h.process_name;
  if (pid_ != h.pid) name += " (pid " + std::to_string(h.pid) + ")";
  element({{"name", "process_name"}, {"ph", "M"}, {"pid", pid_}, {"tid", 0}, {"args", {{"name", name}}}});
}

void ChromeTrace::ensure_thread(std::uint32_t tid, std::uint32_t lane) {
  if (!threads_named_.insert({pid_, tid}).second) return;
  element({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid_}, {"tid", tid},
           {"args", {{"name", "lane " + std::to_string(lane)}}}});
}

void ChromeTrace::window(const atf::WindowMeta& w) {
  ensure_thread(w.tid, w.lane);
  ordered_json patterns = ordered_json::array();
  for (const atf::PatternHit& hit : w.patterns) {
    ordered_json p = {{"id", hit.pattern_id}, {"count", hit.count}};
    if (const std::string* text = file_->patterns.text(hit.pattern_id)) p["text"] = *text;
    patterns.push_back(std::move(p));
  }
  const std::string reason(atf::to_string(w.reason));
  const std::int64_t start = timeline_ns(base_, file_->header, w.start_ns);
  const std::int64_t dur = w.end_ns >= w.start_ns ? static_cast<std::int64_t>(w.end_ns - w.start_ns) : 0;
  element({{"name", "window " + std::to_string(w.window_id) + " (" + reason + ")"},
           {"cat", "window"},
           {"ph", "X"},
           {"pid", pid_},
           {"tid", w.tid},
           {"args",
            {{"window", w.window_id},
             {"lane", w.lane},
             {"reason", reason},
             {"event_count", w.event_count},
             {"marked_count", w.marked_count},
             {"lost_events_before", w.lost_events_before},
             {"lost_bytes_before", w.lost_bytes_before},
             {"ring_sequence", w.ring_sequence},
             {"patterns", patterns}}}},
          start, dur);
}

void ChromeTrace::event(const atf::WindowMeta& w, const atf::StoredEvent& e) {
  ensure_thread(w.tid, w.lane);
  const bool marked = is_marked(e);
  ordered_json args = {{"message", e.message}, {"level", atf::level_name(e.level)}, {"flags", e.flags},
                       {"marked", marked},     {"window", w.window_id}};
  if (const auto id = pattern_id_of(e.pattern)) {
    args["pattern"] = *id;
    if (const std::string* text = file_->patterns.text(*id)) args["pattern_text"] = *text;
  }
  ordered_json object = {{"name", e.name.empty() ? atf::level_name(e.level) : e.name},
                         {"cat", marked ? "marked" : "event"},
                         {"ph", "i"},
                         {"s", "t"},
                         {"pid", pid_},
                         {"tid", w.tid}};
  if (marked) object["cname"] = "terrible";
  object["args"] = std::move(args);
  element(object, timeline_ns(base_, file_->header, e.timestamp_ns));
}

void ChromeTrace::finish() { out_ << "\n]}\n"; }

void ChromeTrace::element(const ordered_json& object, std::optional<std::int64_t> ts_ns,
                          std::optional<std::int64_t> dur_ns) {
  out_ << (first_element_ ? "\n" : ",\n");
  first_element_ = false;
  const std::string body = json_line(object);
  out_ << '{';
  if (ts_ns) out_ << R"("ts":)" << micros_text(*ts_ns) << ',';
  if (dur_ns) out_ << R"("dur":)" << micros_text(*dur_ns) << ',';
  out_ << std::string_view(body).substr(1);
}

}  // namespace preroll::atf_tool
