// prerolld's configuration: every option, its default, and the parser from
// the command line. Parsing is pure (no I/O besides --help/--version text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace preroll::daemon {

struct DaemonConfig {
  std::string socket_path;            // default: shm::default_socket_path()
  std::string output_dir;             // default: default_output_dir()
  std::vector<std::string> triggers;  // literal trigger texts
  bool marking = true;                // off: every window is persisted (capture-all)
  int trigger_level = 4;              // events at or above are marked (4 = error); -1: none
  std::string log_level = "info";
  std::uint32_t poll_interval_ms = 50;          // scan every lane even without doorbells
  std::uint64_t max_segment_size = 1ull << 30;  // refuse larger client segments
};

// Root: /var/lib/preroll. Others: $XDG_STATE_HOME/preroll, else ~/.local/state/preroll.
std::string default_output_dir();

struct ParseOutcome {
  std::optional<DaemonConfig> config;  // set when the daemon should run
  int exit_code = 0;                   // when config is empty: 0 after --help/--version, 1 on error
  std::string message;                 // text to print (help/version on stdout, errors on stderr)
};

ParseOutcome parse_command_line(int argc, const char* const argv[]);

}  // namespace preroll::daemon
