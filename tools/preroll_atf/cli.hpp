// What the preroll-atf subcommands share: exit codes, argument parsing and
// the report of where reading stopped.
//
// Exit codes: 0 every file read whole (clean end, or no end record but
// ending on a record boundary); 1 a file is unreadable or damaged (everything
// recoverable was printed first), or the output could not be written; 2 usage
// error.
#pragma once

#include <boost/program_options.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "preroll/atf/reader.hpp"

namespace preroll::atf_tool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDamaged = 1;
inline constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class FileArgs {
  one,   // info, windows, events, verify
  many,  // cat, export: one or more
};

struct CommandArgs {
  boost::program_options::variables_map options;
  std::string file;                // the first (for FileArgs::one, the only) FILE
  std::vector<std::string> files;  // every FILE, in command-line order
  bool help = false;
};

// Parses the arguments that follow the command name: `options` (to which it
// adds --help) plus the positional FILE(s). With --help, prints `usage`, a
// blank line and the options to stdout and sets `help`. Throws UsageError.
CommandArgs parse_command(const std::vector<std::string>& args, const std::string& usage,
                          boost::program_options::options_description& options, FileArgs files = FileArgs::one);

// When `status` is not ok, says on stderr where and why reading stopped.
// Returns the exit code the status calls for.
int report_stop(const std::string& file, const atf::ReadStatus& status);

int run_info(const std::vector<std::string>& args);
int run_windows(const std::vector<std::string>& args);
int run_events(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);
int run_cat(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);

}  // namespace preroll::atf_tool
