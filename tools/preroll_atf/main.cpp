// preroll-atf: reads ATF trace files (docs/atf.md). A thin dispatcher: each
// subcommand lives in its own cmd_*.cpp and parses its own options.
#include <iostream>
#include <string_view>

#include "cli.hpp"

namespace {

using namespace preroll::atf_tool;

constexpr std::string_view kUsage =
    "usage: preroll-atf COMMAND FILE... [options]\n"
    "\n"
    "commands:\n"
    "  info FILE                          header, counts, how the file ends\n"
    "  windows FILE [--json] [--raw]      one line per window\n"
    "  events FILE [--json] [--raw] [filters]\n"
    "                                     one line per event, in file order\n"
    "  cat FILE... [--json] [--raw] [filters]\n"
    "                                     events of several files in time order\n"
    "  export --format chrome FILE... -o OUT.json [filters]\n"
    "                                     a trace for ui.perfetto.dev / chrome://tracing\n"
    "  export --format jsonl FILE... [-o OUT] [filters]\n"
    "                                     one JSON object per event, in time order\n"
    "  verify FILE                        check every record; exit 1 when damaged\n"
    "\n"
    "filters: --window ID  --tid TID  --since TIME  --until TIME  --level LEVEL\n"
    "         --pattern ID|TEXT  --marked\n"
    "\n"
    "'preroll-atf COMMAND --help' describes a command's options.\n"
    "Exit status: 0 ok, 1 file unreadable or damaged, 2 usage error.\n";

int dispatch(std::string_view command, const std::vector<std::string>& args) {
  if (command == "info") return run_info(args);
  if (command == "windows") return run_windows(args);
  if (command == "events") return run_events(args);
  if (command == "cat") return run_cat(args);
  if (command == "export") return run_export(args);
  if (command == "verify") return run_verify(args);
  throw UsageError("unknown command '" + std::string(command) + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  try {
    return dispatch(command, std::vector<std::string>(argv + 2, argv + argc));
  } catch (const UsageError& e) {
    std::cerr << "preroll-atf: " << e.what() << "\n(see 'preroll-atf --help')\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    // Reader::open names the file in its message; read errors too.
    std::cerr << "preroll-atf: " << e.what() << '\n';
    return kExitDamaged;
  }
}
