// preroll-atf windows: one line per window.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "table.hpp"
#include "text.hpp"

namespace preroll::atf_tool {

namespace {

namespace po = boost::program_options;
using atf::ReadWindow;

std::string pattern_ids(const atf::WindowMeta& meta) {
  if (meta.patterns.empty()) return "-";
  std::string ids;
  for (const atf::PatternHit& hit : meta.patterns) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(hit.pattern_id);
  }
  return ids;
}

std::uint64_t duration_ns(const atf::WindowMeta& meta) {
  return meta.end_ns >= meta.start_ns ? meta.end_ns - meta.start_ns : 0;
}

nlohmann::ordered_json window_json(const atf::FileHeader& header, const atf::WindowMeta& m) {
  nlohmann::ordered_json patterns = nlohmann::ordered_json::array();
  for (const atf::PatternHit& hit : m.patterns) patterns.push_back({{"id", hit.pattern_id}, {"count", hit.count}});
  return {
      {"window", m.window_id},
      {"lane", m.lane},
      {"tid", m.tid},
      {"ring_sequence", m.ring_sequence},
      {"reason", atf::to_string(m.reason)},
      {"start_ns", m.start_ns},
      {"end_ns", m.end_ns},
      {"start", iso_time_ns(atf::wall_clock_ns(header, m.start_ns))},
      {"end", iso_time_ns(atf::wall_clock_ns(header, m.end_ns))},
      {"duration_ns", duration_ns(m)},
      {"first_marked_ns", m.first_marked_ns},
      {"events", m.event_count},
      {"marked", m.marked_count},
      {"patterns", patterns},
      {"lost_events_before", m.lost_events_before},
      {"lost_bytes_before", m.lost_bytes_before},
  };
}

}  // namespace

int run_windows(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "one JSON object per line")("raw", "CLOCK_MONOTONIC nanoseconds, not wall-clock time");
  const CommandArgs cmd = parse_command(args, "usage: preroll-atf windows FILE [--json] [--raw]", options);
  if (cmd.help) return kExitOk;
  const bool json = cmd.options.count("json") != 0;
  const bool raw = cmd.options.count("raw") != 0;

  auto reader = atf::Reader::open(cmd.file);
  const atf::FileHeader& header = reader->header();
  const auto when = [&](std::uint64_t ns) {
    return raw ? std::to_string(ns) : iso_time_ns(atf::wall_clock_ns(header, ns));
  };

  Table table({{"ID", true},
               {"LANE", true},
               {"TID", true},
               {"REASON", false},
               {"START", false},
               {"END", false},
               {"DURATION", true},
               {"EVENTS", true},
               {"MARKED", true},
               {"PATTERNS", false},
               {"LOST", true}});
  ReadWindow window;
  while (reader->next(window)) {
    const atf::WindowMeta& m = window.meta;
    if (json) {
      std::cout << window_json(header, m).dump() << '\n';
      continue;
    }
    table.add_row({std::to_string(m.window_id), std::to_string(m.lane), std::to_string(m.tid),
                   std::string(atf::to_string(m.reason)), when(m.start_ns), when(m.end_ns),
                   format_duration(duration_ns(m)), std::to_string(m.event_count), std::to_string(m.marked_count),
                   pattern_ids(m), std::to_string(m.lost_events_before)});
  }
  if (!json) table.print(std::cout);
  std::cout.flush();
  return report_stop(cmd.file, reader->status());
}

}  // namespace preroll::atf_tool
