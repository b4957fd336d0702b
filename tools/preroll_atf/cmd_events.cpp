// preroll-atf events: one line per event, in file order (window by window).
#include <iostream>

#include "cli.hpp"
#include "event_format.hpp"
#include "input_files.hpp"

namespace preroll::atf_tool {

namespace po = boost::program_options;

int run_events(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "one JSON object per line")(
      "raw", "CLOCK_MONOTONIC nanoseconds, not wall-clock time (text mode)");
  add_filter_options(options);
  const CommandArgs cmd =
      parse_command(args,
                    "usage: preroll-atf events FILE [--json] [--raw] [filters]\n\n"
                    "Events in file order, window by window ('cat' orders them by time).\n"
                    "Text columns: time, level, tid/lane, marker ('*' marked, '~' message truncated),\n"
                    "name: message. Bytes that are not printable are shown as \\xNN.\n"
                    "Filters combine with AND; a repeated filter selects any of its values.",
                    options);
  if (cmd.help) return kExitOk;
  const EventFilter filter = parse_filter(cmd.options);
  const bool json = cmd.options.count("json") != 0;
  const EventLineFormat text(cmd.options.count("raw") != 0, /*source_width=*/0);

  Inputs inputs = open_inputs(cmd.files, filter);
  for (SourceFile& f : inputs.files) {
    atf::ReadWindow window;
    while (f.reader->next(window)) {
      if (!f.filter.selects_window(window.meta)) continue;
      for (const atf::StoredEvent& e : window.events) {
        if (!f.filter.selects_event(e)) continue;
        std::cout << (json ? json_line(event_json(f, window.meta, e, /*with_source=*/false))
                           : text.line(f, window.meta, e))
                  << '\n';
      }
    }
    f.status = f.reader->status();
  }
  std::cout.flush();
  return report_inputs(inputs);
}

}  // namespace preroll::atf_tool
