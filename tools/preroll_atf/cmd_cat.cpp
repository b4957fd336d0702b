// preroll-atf cat: the events of several files as one time line.
#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "event_format.hpp"
#include "time_merge.hpp"

namespace preroll::atf_tool {

namespace po = boost::program_options;

int run_cat(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("json", "one JSON object per line (with file, pid, process)")(
      "raw", "CLOCK_MONOTONIC nanoseconds, not wall-clock time (text mode)");
  add_filter_options(options);
  const CommandArgs cmd = parse_command(
      args,
      "usage: preroll-atf cat FILE... [--json] [--raw] [filters]\n\n"
      "The events of all FILEs merged in time order (CLOCK_MONOTONIC when the files come\n"
      "from one boot, else wall-clock time). Text columns: time, process[pid], level,\n"
      "tid/lane, marker ('*' marked, '~' message truncated), name: message.\n"
      "Filters as for 'events'; --window IDs are per file.",
      options, FileArgs::many);
  if (cmd.help) return kExitOk;
  const EventFilter filter = parse_filter(cmd.options);
  const bool json = cmd.options.count("json") != 0;

  Inputs inputs = open_inputs(cmd.files, filter);
  if (inputs.time_base == TimeBase::wall_clock) {
    std::cerr << "preroll-atf: the files come from different boots; merged by wall-clock time\n";
  }
  std::size_t source_width = 0;
  for (const SourceFile& f : inputs.files) source_width = std::max(source_width, source_label(f.header).size());
  const EventLineFormat text(cmd.options.count("raw") != 0, source_width);

  merge_in_time_order(inputs, [&](const SourceFile& f, const atf::WindowMeta& w, const atf::StoredEvent& e) {
    std::cout << (json ? json_line(event_json(f, w, e, /*with_source=*/true)) : text.line(f, w, e)) << '\n';
  });
  std::cout.flush();
  return report_inputs(inputs);
}

}  // namespace preroll::atf_tool
