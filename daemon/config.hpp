// prerolld's configuration: every option, its default, and the parser of the
// command line and the config file (same names in both; the command line
// wins). Parsing is pure apart from reading the config file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "matching/pattern_matcher.hpp"
#include "storage/storage_config.hpp"

namespace preroll::daemon {

// One --trigger, with the count condition that followed it, if any.
struct TriggerSpec {
  std::string text;
  PatternKind kind = PatternKind::literal;  // "re:" prefix: regex; "lit:" forces a literal
  std::uint32_t min_count = 1;              // marks only at the N-th match ...
  std::uint64_t within_ns = 0;              // ... within this span (per client); 0 with min_count 1
  friend bool operator==(const TriggerSpec&, const TriggerSpec&) = default;
};

// The marking part of the configuration (what a reload re-reads).
struct PolicyConfig {
  bool marking = true;                 // off: every window is persisted (capture-all)
  std::vector<TriggerSpec> triggers;
  bool ignore_case = false;
  PatternField trigger_field = PatternField::any;
  int trigger_level = 4;               // events at or above are marked (4 = error); -1: none
  bool strict_patterns = false;        // an invalid regex is an error, not a literal fallback
  // Window selection (docs/user-guide.md explains the defaults).
  std::uint32_t pre_roll = 1;          // unmarked windows per lane held back, written before a marked one
  std::uint32_t post_roll = 1;         // windows per lane written after a marked one
  std::uint64_t flush_after_ns = 2'000'000'000;  // a marked event reaches disk this soon; 0: only at ring full
  std::string on_crash = "marked";     // marked|all|none: what a crashed client's rings keep
  bool process_scope = false;          // --scope process: a mark keeps the other threads' context too
};

struct DaemonConfig {
  std::string socket_path;            // default: shm::default_socket_path()
  std::string output_dir;             // default: default_output_dir()
  std::string log_level = "info";
  std::uint32_t poll_interval_ms = 50;          // scan every lane even without doorbells
  std::uint64_t max_segment_size = 1ull << 30;  // refuse larger client segments
  // What one local user can make the daemon hold (docs/reliability.md).
  std::uint32_t hello_timeout_s = 5;            // a registration connection without a valid HELLO is closed
  std::uint32_t max_clients = 4096;             // registration connections, attached or not
  std::uint32_t max_clients_per_user = 1024;    // the same, per uid (root and the daemon's own uid too)
  std::uint32_t max_control_connections = 64;   // control socket connections at once; the last eighth for root
  std::uint32_t max_control_connections_per_user = 8;  // of one uid other than root and the daemon's
  PolicyConfig policy;
  StorageConfig storage;              // compression, fsync, rotation, quota
  std::string config_file;            // the file that was read, empty if none
  bool check_only = false;            // --check-config
  std::vector<std::string> argv;      // as given, to re-read on reload
};

// Root: /var/lib/preroll. Others: $XDG_STATE_HOME/preroll, else ~/.local/state/preroll.
std::string default_output_dir();
inline constexpr const char* kDefaultConfigFile = "/etc/preroll/prerolld.conf";

struct ParseOutcome {
  std::optional<DaemonConfig> config;  // set when the daemon should run (or check)
  int exit_code = 0;                   // when config is empty: 0 after --help/--version, 1 on error
  std::string message;                 // help/version on stdout; errors (one per line) on stderr
};

// `default_config_file` is read when it exists and no --config is given
// (tests pass an empty string to ignore the system's file).
ParseOutcome parse_command_line(int argc, const char* const argv[],
                                const std::string& default_config_file = kDefaultConfigFile);

// "trace".."fatal" -> 0..5, "none" -> -1; nullopt otherwise.
std::optional<int> parse_level(const std::string& s);

}  // namespace preroll::daemon
