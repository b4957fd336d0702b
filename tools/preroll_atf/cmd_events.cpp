// preroll-atf events: one line per event.
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli.hpp"
#include "text.hpp"

namespace preroll::atf_tool {

namespace {

namespace po = boost::program_options;
using atf::StoredEvent;
namespace flags = atf::event_flags;

bool is_marked(const StoredEvent& e) { return (e.flags & (flags::client_marked | flags::policy_marked)) != 0; }

// '*' marked (by the client or the policy), '~' message cut at the limit.
std::string marker(const StoredEvent& e) {
  std::string m;
  m += is_marked(e) ? '*' : ' ';
  m += (e.flags & flags::truncated) != 0 ? '~' : ' ';
  return m;
}

void print_text(const atf::FileHeader& header, const atf::WindowMeta& m, const StoredEvent& e, bool raw) {
  std::cout << (raw ? std::to_string(e.timestamp_ns) : iso_time_ns(atf::wall_clock_ns(header, e.timestamp_ns)))
            << ' ';
  std::string level = atf::level_name(e.level);
  level.resize(std::max<std::size_t>(level.size(), 5), ' ');
  std::cout << level << ' ' << m.tid << '/' << m.lane << ' ' << marker(e) << ' ';
  if (!e.name.empty()) std::cout << escape_text(e.name) << ": ";
  std::cout << escape_text(e.message) << '\n';
}

// Text that is not UTF-8 is shown with U+FFFD in its place (nlohmann's
// replace handler); the exact bytes then go in a second key as hex.
void put_text(nlohmann::json& object, const char* key, const std::string& bytes) {
  object[key] = bytes;
  if (!is_valid_utf8(bytes)) object[std::string(key) + "_hex"] = hex_bytes(bytes);
}

void print_json(const atf::FileHeader& header, const atf::WindowMeta& m, const StoredEvent& e) {
  nlohmann::json object = {
      {"window", m.window_id},
      {"lane", m.lane},
      {"tid", m.tid},
      {"ts_ns", e.timestamp_ns},
      {"time", iso_time_ns(atf::wall_clock_ns(header, e.timestamp_ns))},
      {"level", atf::level_name(e.level)},
      {"kind", e.kind},
      {"flags", e.flags},
      {"marked", is_marked(e)},
      {"truncated", (e.flags & flags::truncated) != 0},
  };
  put_text(object, "name", e.name);
  put_text(object, "message", e.message);
  std::cout << object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace

int run_events(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "one JSON object per line")("window", po::value<std::uint64_t>(),
                                                            "only the events of window ID")(
      "raw", "CLOCK_MONOTONIC nanoseconds, not wall-clock time (text mode)");
  const CommandArgs cmd =
      parse_command(args, "usage: preroll-atf events FILE [--json] [--raw] [--window ID]\n\n"
                          "Text columns: time, level, tid/lane, marker ('*' marked, '~' message truncated),\n"
                          "name: message. Bytes that are not printable are shown as \\xNN.",
                    options);
  if (cmd.help) return kExitOk;
  const bool json = cmd.options.count("json") != 0;
  const bool raw = cmd.options.count("raw") != 0;
  std::optional<std::uint64_t> only;
  if (cmd.options.count("window") != 0) only = cmd.options["window"].as<std::uint64_t>();

  auto reader = atf::Reader::open(cmd.file);
  atf::ReadWindow window;
  while (reader->next(window)) {
    if (only && window.meta.window_id != *only) continue;
    for (const StoredEvent& e : window.events) {
      if (json) {
        print_json(reader->header(), window.meta, e);
      } else {
        print_text(reader->header(), window.meta, e, raw);
      }
    }
  }
  std::cout.flush();
  return report_stop(cmd.file, reader->status());
}

}  // namespace preroll::atf_tool
