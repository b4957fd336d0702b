#include "config.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <sstream>

#include "preroll/shm/paths.hpp"

namespace preroll::daemon {

namespace po = boost::program_options;

std::string default_output_dir() {
  if (::geteuid() == 0) return "/var/lib/preroll";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && xdg[0] == '/')
    return std::string(xdg) + "/preroll";
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/')
    return std::string(home) + "/.local/state/preroll";
  return "/tmp/preroll-" + std::to_string(::geteuid()) + "/state";
}

ParseOutcome parse_command_line(int argc, const char* const argv[]) {
  ParseOutcome out;
  DaemonConfig cfg;
  std::string marking = "on";
  std::string trigger_level = "error";
  po::options_description desc("prerolld options");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("socket", po::value(&cfg.socket_path), "registration socket path (default: /run/preroll/prerolld.sock as root, "
                                            "$XDG_RUNTIME_DIR/preroll/prerolld.sock otherwise)")
    ("output-dir", po::value(&cfg.output_dir), "directory for ATF files (default: /var/lib/preroll as root, "
                                               "$XDG_STATE_HOME/preroll otherwise)")
    ("trigger", po::value(&cfg.triggers)->composing(), "literal text that marks an event (repeatable)")
    ("trigger-level", po::value(&trigger_level)->default_value("error"),
        "events at or above this level are marked: trace|debug|info|warn|error|fatal|none")
    ("marking", po::value(&marking)->default_value("on"), "on: keep only windows with a marked event; "
                                                          "off: keep every window")
    ("log-level", po::value(&cfg.log_level)->default_value("info"), "trace|debug|info|warn|error|critical|off")
    ("poll-interval-ms", po::value(&cfg.poll_interval_ms)->default_value(50),
        "scan every client's lanes this often even without doorbells (1-10000)")
    ("max-segment-size", po::value(&cfg.max_segment_size)->default_value(1ull << 30),
        "refuse client segments larger than this many bytes");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    out.exit_code = 1;
    out.message = std::string("prerolld: ") + e.what() + "\nTry 'prerolld --help'.";
    return out;
  }
  if (vm.count("help")) {
    std::ostringstream s;
    s << "Usage: prerolld [OPTIONS]\n\nThe preroll flight-recorder daemon: keeps only the trace windows around "
         "marked events.\n\n"
      << desc;
    out.message = s.str();
    return out;
  }
  if (vm.count("version")) {
    out.message = "prerolld " PREROLL_VERSION;
    return out;
  }
  auto fail = [&](const std::string& why) {
    out.exit_code = 1;
    out.message = "prerolld: " + why;
    return out;
  };
  if (marking == "on") {
    cfg.marking = true;
  } else if (marking == "off") {
    cfg.marking = false;
  } else {
    return fail("--marking must be 'on' or 'off', not '" + marking + "'");
  }
  static const char* const event_levels[] = {"trace", "debug", "info", "warn", "error", "fatal"};
  cfg.trigger_level = -2;
  if (trigger_level == "none") cfg.trigger_level = -1;
  for (int i = 0; i < 6; ++i)
    if (trigger_level == event_levels[i]) cfg.trigger_level = i;
  if (cfg.trigger_level == -2)
    return fail("--trigger-level '" + trigger_level + "' is not one of trace|debug|info|warn|error|fatal|none");
  static const char* const levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : levels) level_ok = level_ok || cfg.log_level == l;
  if (!level_ok) return fail("--log-level '" + cfg.log_level + "' is not one of trace|debug|info|warn|error|critical|off");
  if (cfg.poll_interval_ms < 1 || cfg.poll_interval_ms > 10000)
    return fail("--poll-interval-ms " + std::to_string(cfg.poll_interval_ms) + " outside 1-10000");
  for (const auto& t : cfg.triggers)
    if (t.empty()) return fail("--trigger: an empty pattern would match every event");
  if (cfg.socket_path.empty()) cfg.socket_path = shm::default_socket_path();
  if (cfg.output_dir.empty()) cfg.output_dir = default_output_dir();
  out.config = std::move(cfg);
  return out;
}

}  // namespace preroll::daemon
