// preroll-run: runs an unmodified program and records every line it writes
// on stdout and stderr as an event, passing the output through unchanged.
// See --help (kHelp below) and docs/integrations.md.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "child_process.hpp"
#include "level_guess.hpp"
#include "message_limit.hpp"
#include "output_pump.hpp"
#include "preroll/preroll.h"

namespace po = boost::program_options;
using namespace preroll::run;

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitInternal = 125;

constexpr const char* kSynopsis = "Usage: preroll-run [OPTIONS] [--] COMMAND [ARGS...]\n";

constexpr const char* kDescription = R"(
Runs COMMAND with its standard output and standard error passed through
unchanged, and records every line it writes there as an event in preroll's
flight recorder: event name "stdout" or "stderr", the line without its
newline (and without a '\r' before it) as the message, bytes as they are.
prerolld keeps only the windows around marked events: lines at or above its
--trigger-level (error by default) or matching its --trigger patterns.

The ATF file is named after COMMAND (tar-<pid>-....atf for tar), not after
preroll-run. COMMAND's environment, standard input, other descriptors,
process group and ignored signals are preroll-run's own; its stdout and
stderr are pipes to preroll-run.

)";

constexpr const char* kDetails = R"(
Levels (unless --no-level-guess): case-sensitive whole words, highest wins
  fatal  FATAL Fatal CRITICAL CRIT EMERG PANIC fatal: panic:
  error  ERROR Error ERR Traceback error:
  warn   WARN WARNING Warn Warning warning:
  debug  DEBUG          trace  TRACE
  (lower-case forms only with the ':'). A level key names the level outright:
  level=warn, lvl=error, severity: ..., "level":"error" (logfmt, JSON); so
  does a glog prefix at the start of a line (E0612 ..., W..., F..., I...).
  Lines without a marker get --stdout-level / --stderr-level.

Long lines and binary output
  A line longer than --max-line bytes is recorded as consecutive events of
  at most that size; nothing of a line is kept in memory beyond that. Bytes
  are recorded as they are (NUL, invalid UTF-8). The passthrough is never
  cut, delayed for a line end or changed.

Buffering
  COMMAND writes to pipes, not a terminal: C stdio (and many runtimes) then
  buffer stdout in blocks, so its lines arrive in bursts and stdout and
  stderr lines may be recorded out of their real order. For a program that
  uses C stdio, `preroll-run -- stdbuf -oL COMMAND ...` restores line
  buffering (the events are then named after stdbuf: add --process-name).

Signals
  SIGINT SIGTERM SIGHUP SIGQUIT SIGUSR1 SIGUSR2 are passed on to COMMAND.
  One the terminal sent to the whole foreground group (Ctrl-C, Ctrl-\,
  hangup) is not sent twice. After COMMAND exited, one of them stops the
  wait for processes it left behind still holding its stdout or stderr.

Exit status
  COMMAND's exit status, or 128+N when signal N killed it (not re-raised).
  127 COMMAND was not found, 126 it could not be executed (with a message),
  125 preroll-run failed before COMMAND ran, 2 bad usage.

Environment
  PREROLL_SOCKET, PREROLL_RING_SIZE, PREROLL_MAX_MESSAGE, PREROLL_DISABLE, ...
  configure the capture of preroll-run (libpreroll, see preroll.h); they
  reach COMMAND too, as the rest of the environment. PREROLL_PROCESS_NAME,
  when set, names the capture instead of COMMAND's base name.

Example
  preroll-run -- tar -xvf backup.tar -C /restore
)";

struct Options {
  bool guess = true;
  std::string stdout_level = "info";
  std::string stderr_level = "info";
  std::uint32_t max_line = 0;  // 0: the library's limit
  std::string process_name;
  double drain_seconds = -1;   // < 0: until the pipes are closed
};

po::options_description describe(Options& o, std::uint32_t library_limit) {
  po::options_description d("Options");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("no-level-guess", po::bool_switch(), "do not guess levels from the lines: every line gets its stream's level")
    ("stdout-level", po::value(&o.stdout_level)->default_value("info")->value_name("LEVEL"),
        "level of stdout lines without a marker: trace|debug|info|warn|error|fatal")
    ("stderr-level", po::value(&o.stderr_level)->default_value("info")->value_name("LEVEL"), "the same for stderr lines")
    ("max-line", po::value(&o.max_line)->default_value(library_limit)->value_name("BYTES"),
        "longest event in bytes; longer lines become several events (default: the message limit libpreroll "
        "has here, from PREROLL_MAX_MESSAGE and PREROLL_RING_SIZE)")
    ("process-name", po::value(&o.process_name)->value_name("NAME"),
        "name of the capture (ATF file names, prerollctl); default: PREROLL_PROCESS_NAME, else COMMAND's base name")
    ("drain-timeout", po::value(&o.drain_seconds)->value_name("SECONDS"),
        "after COMMAND exited, pass through output of processes it left behind for at most this many seconds "
        "(default: until they close its stdout and stderr)");
  // clang-format on
  return d;
}

int usage_error(const std::string& message) {
  std::cerr << "preroll-run: " << message << "\nTry 'preroll-run --help'.\n";
  return kExitUsage;
}

// Index of the first argument of COMMAND: after "--", or the first argument
// that is neither an option nor an option's value (so `preroll-run tar -x`
// works too, like env, nice or timeout).
int command_start(int argc, char** argv, const po::options_description& desc, int& options_end) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      options_end = i;
      return i + 1;
    }
    if (a.size() < 2 || a[0] != '-') {
      options_end = i;
      return i;
    }
    if (a.rfind("--", 0) == 0 && a.find('=') == std::string::npos) {
      const po::option_description* od = desc.find_nothrow(a.substr(2), false);
      if (od != nullptr && od->semantic()->max_tokens() > 0) ++i;  // its value
    }
  }
  options_end = argc;
  return argc;
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  return b.empty() ? path : b;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?[]{}();&|<>~#!") == std::string::npos;
    if (plain) {
      s += a;
    } else {
      s += '\'';
      for (const char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
      s += '\'';
    }
  }
  return s;
}

void note(int level, const std::string& text) { preroll_emit_n(level, "preroll-run", 11, text.data(), text.size()); }

// fds 1 and 2 are where the output goes and must not be taken by our pipes:
// a closed one becomes /dev/null (that output is discarded, still recorded).
void ensure_stdout_stderr_open() {
  for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int n = ::open("/dev/null", O_WRONLY);
    if (n < 0) throw std::system_error(errno, std::generic_category(), "/dev/null");
    if (n != fd) {
      ::dup2(n, fd);
      ::close(n);
    }
  }
}

// The first event creates the capture, which reads PREROLL_PROCESS_NAME:
// set it for that moment only, so COMMAND's environment stays as it was.
void start_capture(const std::string& name, const std::string& first_message) {
  const char* prior = std::getenv("PREROLL_PROCESS_NAME");
  const std::optional<std::string> saved = prior ? std::optional<std::string>(prior) : std::nullopt;
  ::setenv("PREROLL_PROCESS_NAME", name.c_str(), 1);
  note(PREROLL_INFO, first_message);
  if (saved) {
    ::setenv("PREROLL_PROCESS_NAME", saved->c_str(), 1);
  } else {
    ::unsetenv("PREROLL_PROCESS_NAME");
  }
}

std::string describe_exit(int status, const SignalRelay& relay, int& level) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    // Killed by a signal preroll-run passed on: an ordinary stop. Any other
    // (a crash, SIGKILL, the OOM killer) is an error worth its window.
    level = relay.passed_on(sig) ? PREROLL_INFO : PREROLL_ERROR;
    return "killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "") +
           (WCOREDUMP(status) ? ", core dumped" : "") + ": exit status " + std::to_string(128 + sig);
  }
  const int code = exit_code_of(status);
  level = code == 0 ? PREROLL_INFO : PREROLL_WARN;
  return "exited with status " + std::to_string(code);
}

int run(int argc, char** argv) {
  Options o;
  const std::uint32_t limit = library_message_limit();
  po::options_description desc = describe(o, limit);
  int options_end = argc;
  const int cmd = command_start(argc, argv, desc, options_end);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(std::vector<std::string>(argv + 1, argv + options_end))
                  .options(desc)
                  .style(po::command_line_style::unix_style & ~po::command_line_style::allow_guessing)
                  .run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << kSynopsis << kDescription << desc << kDetails;
    return 0;
  }
  if (cmd >= argc) return usage_error("no COMMAND to run");
  o.guess = !vm["no-level-guess"].as<bool>();
  const auto out_level = parse_level_name(o.stdout_level);
  const auto err_level = parse_level_name(o.stderr_level);
  if (!out_level || !err_level)
    return usage_error("unknown level '" + (out_level ? o.stderr_level : o.stdout_level) +
                       "' (trace|debug|info|warn|error|fatal)");
  if (o.max_line == 0 || o.max_line > limit)
    return usage_error("--max-line must be within 1.." + std::to_string(limit) +
                       " (libpreroll's message limit here; PREROLL_MAX_MESSAGE raises it, within what "
                       "PREROLL_RING_SIZE allows)");
  if (vm.count("drain-timeout") && !(o.drain_seconds >= 0 && o.drain_seconds <= 86400.0 * 365))
    return usage_error("--drain-timeout must be a number of seconds, 0 or more");

  const std::vector<std::string> command(argv + cmd, argv + argc);
  std::string name = o.process_name;
  if (name.empty()) {
    const char* env_name = std::getenv("PREROLL_PROCESS_NAME");
    name = env_name != nullptr && *env_name != '\0' ? env_name : base_name(command[0]);
  }

  ensure_stdout_stderr_open();
  start_capture(name, "run: " + command_line(command));
  const SignalRelay relay;
  StartFailure failure{};
  std::optional<ChildProcess> child = ChildProcess::start(command, relay, failure);
  if (!child) {
    const std::string msg = "cannot run '" + command[0] + "': " + std::strerror(failure.error);
    std::fprintf(stderr, "preroll-run: %s\n", msg.c_str());
    note(PREROLL_ERROR, msg);
    preroll_shutdown();
    return failure.exit_code;
  }

  PumpOptions po_opts;
  po_opts.max_piece = o.max_line;
  po_opts.guess_levels = o.guess;
  po_opts.stdout_level = *out_level;
  po_opts.stderr_level = *err_level;
  if (o.drain_seconds >= 0) po_opts.drain_seconds = o.drain_seconds;
  pump_until_exit(*child, relay, po_opts);

  int level = PREROLL_INFO;
  const std::string how = describe_exit(child->wait_status(), relay, level);
  note(level, how);
  // The last ring goes to the daemon before we exit.
  preroll_flush();
  preroll_shutdown();
  return exit_code_of(child->wait_status());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preroll-run: %s\n", e.what());
    return kExitInternal;
  }
}
