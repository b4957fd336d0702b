// preroll-atf export: files in formats other tools read. chrome: a trace
// for ui.perfetto.dev and chrome://tracing; jsonl: one JSON object per event,
// in time order, for log pipelines.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "chrome_trace.hpp"
#include "cli.hpp"
#include "event_format.hpp"
#include "time_merge.hpp"

namespace preroll::atf_tool {

namespace {

namespace po = boost::program_options;

void write_chrome(Inputs& inputs, std::ostream& out) {
  ChromeTrace trace(out, inputs.time_base);
  for (SourceFile& f : inputs.files) {
    trace.begin_file(f);
    atf::ReadWindow window;
    while (f.reader->next(window)) {
      if (!f.filter.selects_window(window.meta)) continue;
      if (f.filter.window_in_time_range(window.meta)) trace.window(window.meta);
      for (const atf::StoredEvent& e : window.events) {
        if (f.filter.selects_event(e)) trace.event(window.meta, e);
      }
    }
    f.status = f.reader->status();
  }
  trace.finish();
}

void write_jsonl(Inputs& inputs, std::ostream& out) {
  merge_in_time_order(inputs, [&](const SourceFile& f, const atf::WindowMeta& w, const atf::StoredEvent& e) {
    out << json_line(event_json(f, w, e, /*with_source=*/true)) << '\n';
  });
}

// Refuses to truncate an input by writing over it.
void require_not_an_input(const std::string& output, const std::vector<std::string>& inputs) {
  for (const std::string& input : inputs) {
    std::error_code ignored;
    if (std::filesystem::equivalent(output, input, ignored)) throw UsageError("-o " + output + " is an input file");
  }
}

}  // namespace

int run_export(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()
      ("format,f", po::value<std::string>()->value_name("FORMAT"), "chrome or jsonl")
      ("output,o", po::value<std::string>()->value_name("OUT"),
       "file to write, '-' for stdout (required for chrome; jsonl: default stdout)");
  add_filter_options(options);
  const CommandArgs cmd = parse_command(
      args,
      "usage: preroll-atf export --format chrome FILE... -o OUT.json [filters]\n"
      "       preroll-atf export --format jsonl FILE... [-o OUT] [filters]\n\n"
      "chrome: Chrome trace-event JSON; open it in ui.perfetto.dev (Open trace file) or\n"
      "chrome://tracing. A process per traced process, a track per thread, windows as\n"
      "spans, events as instants (marked ones in category \"marked\"). ts is microseconds\n"
      "of CLOCK_MONOTONIC (wall-clock when the files come from different boots).\n"
      "jsonl: the lines of 'cat --json', in time order.\n"
      "Filters as for 'events'; for chrome, --window, --tid and the time range also select\n"
      "the window spans.",
      options, FileArgs::many);
  if (cmd.help) return kExitOk;
  if (cmd.options.count("format") == 0) throw UsageError("export: missing --format chrome|jsonl");
  const std::string format = cmd.options["format"].as<std::string>();
  if (format != "chrome" && format != "jsonl") {
    throw UsageError("export: unknown --format '" + format + "' (chrome, jsonl)");
  }
  const bool has_output = cmd.options.count("output") != 0;
  if (!has_output && format == "chrome") {
    throw UsageError("export --format chrome: missing -o OUT.json ('-o -' for stdout)");
  }
  const std::string output = has_output ? cmd.options["output"].as<std::string>() : std::string("-");
  const EventFilter filter = parse_filter(cmd.options);
  if (output != "-") require_not_an_input(output, cmd.files);

  Inputs inputs = open_inputs(cmd.files, filter);
  std::ofstream file;
  if (output != "-") {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "preroll-atf: cannot write " << output << ": " << std::strerror(errno) << '\n';
      return kExitDamaged;
    }
  }
  std::ostream& out = output == "-" ? std::cout : file;
  if (format == "chrome") {
    write_chrome(inputs, out);
  } else {
    write_jsonl(inputs, out);
  }
  out.flush();
  const int code = report_inputs(inputs);
  if (!out) {
    std::cerr << "preroll-atf: writing " << (output == "-" ? "stdout" : output) << " failed\n";
    return kExitDamaged;
  }
  return code;
}

}  // namespace preroll::atf_tool
