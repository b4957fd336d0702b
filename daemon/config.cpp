#include "config.hpp"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

std::optional<int> parse_level(const std::string& s) {
  static const char* const names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
  if (s == "none") return -1;
  for (int i = 0; i < 6; ++i)
    if (s == names[i]) return i;
  return std::nullopt;
}

namespace {

// A count or size option: digits only. boost::lexical_cast (program_options'
// default) turns "-3" into 4294967293 for an unsigned type, which would then
// be reported as a huge number instead of the value the operator typed.
template <class T>
struct Unsigned {
  T value{};
};

// Found by argument-dependent lookup from program_options; a bad token comes
// out as "the argument ('-3') for option '--pre-roll' is invalid".
template <class T>
void validate(boost::any& out, const std::vector<std::string>& tokens, Unsigned<T>*, int) {
  po::validators::check_first_occurrence(out);
  const std::string& s = po::validators::get_single_string(tokens);
  T n{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) throw po::invalid_option_value(s);
  out = Unsigned<T>{n};
}

template <class T>
po::typed_value<Unsigned<T>>* unsigned_value(T fallback) {
  return po::value<Unsigned<T>>()->default_value(Unsigned<T>{fallback}, std::to_string(fallback));
}

// Options shared by the command line and the config file.
po::options_description file_options() {
  po::options_description d("Options (command line or config file)");
  // clang-format off
  d.add_options()
    ("socket", po::value<std::string>(), "registration socket path (default: /run/preroll/prerolld.sock as root, "
                                         "$XDG_RUNTIME_DIR/preroll/prerolld.sock otherwise)")
    ("output-dir", po::value<std::string>(), "directory for ATF files (default: /var/lib/preroll as root, "
                                             "$XDG_STATE_HOME/preroll otherwise)")
    ("trigger", po::value<std::vector<std::string>>(),
        "pattern that marks an event (repeatable): literal text, 're:REGEX' (PCRE2), 'lit:TEXT' for a literal "
        "that starts with 're:'")
    ("min-count", po::value<std::vector<std::uint32_t>>(),
        "the preceding --trigger marks only at its N-th match within --within seconds, per client")
    ("within", po::value<std::vector<double>>(), "time span of the preceding --min-count, in seconds")
    ("ignore-case", po::bool_switch(), "match every trigger case-insensitively")
    ("trigger-field", po::value<std::string>()->default_value("any"), "where triggers look: name|message|any")
    ("trigger-level", po::value<std::string>()->default_value("error"),
        "events at or above this level are marked: trace|debug|info|warn|error|fatal|none")
    ("strict-patterns", po::bool_switch(), "an invalid regex is a startup error instead of a literal fallback")
    ("pre-roll", unsigned_value<std::uint32_t>(1),
        "unmarked windows per lane held back and written before a marked window (capped at rings per lane - 2)")
    ("post-roll", unsigned_value<std::uint32_t>(1), "windows per lane written after a marked window")
    ("flush-after", po::value<double>()->default_value(2.0),
        "seconds within which a marked event reaches disk even if its ring never fills (0: off)")
    ("scope", po::value<std::string>()->default_value("lane"),
        "lane: a marked window keeps its own lane's pre-/post-roll; process: also the other threads' windows "
        "that overlap it (held pre-roll and the unwritten part of active rings)")
    ("on-crash", po::value<std::string>()->default_value("marked"),
        "what a crashed client's rings keep: marked (windows with a marked event, and their pre-roll), all, none")
    ("marking", po::value<std::string>()->default_value("on"),
        "on: keep only windows with a marked event; off: keep every window")
    ("log-level", po::value<std::string>()->default_value("info"), "trace|debug|info|warn|error|critical|off")
    ("poll-interval-ms", unsigned_value<std::uint32_t>(50),
        "scan every client's lanes this often even without doorbells (1-10000)")
    ("max-segment-size", unsigned_value<std::uint64_t>(1ull << 30),
        "refuse client segments larger than this many bytes")
    ("hello-timeout", unsigned_value<std::uint32_t>(5),
        "seconds a new client connection has to send a valid HELLO before it is closed (1-3600)")
    ("max-clients", unsigned_value<std::uint32_t>(4096),
        "client connections served at once, attached or not; more are refused (1-1000000)")
    ("max-clients-per-user", unsigned_value<std::uint32_t>(1024),
        "client connections of one uid served at once, root's and the daemon's own included (1-1000000)")
    ("max-control-connections", unsigned_value<std::uint32_t>(64),
        "control socket (prerollctl) connections served at once, the last eighth only to root and the daemon's "
        "own uid; more get an error and are closed (1-65536)")
    ("max-control-connections-per-user", unsigned_value<std::uint32_t>(8),
        "control socket connections of one uid other than root and the daemon's own (1-65536)")
    ("compress", po::value<std::string>()->default_value("zstd"),
        "how event records are stored: zstd (each events record a zstd frame when that is smaller) or none")
    ("compress-level", po::value<int>()->default_value(1), "zstd level, 1 (fastest) to 19")
    ("fsync", po::value<std::string>()->default_value("interval"),
        "when files are flushed to the device: window (after every window), interval (every --fsync-interval "
        "seconds), never (kernel writeback)")
    ("fsync-interval", po::value<double>()->default_value(1.0), "seconds between flushes with --fsync interval")
    ("max-file-size", po::value<std::string>()->default_value("64M"),
        "start a new numbered file for a client before its file passes this size (K, M, G suffixes; 0: never)")
    ("max-disk-usage", po::value<std::string>()->default_value("auto"),
        "ATF bytes the output directory may hold; the oldest closed files are deleted to stay under it "
        "(K, M, G suffixes; 0: no limit; auto: 10% of the file system, at most 4G)");
  // clang-format on
  return d;
}

po::options_description command_line_only() {
  po::options_description d("Command line only");
  // clang-format off
  d.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config", po::value<std::string>(), "config file (default: /etc/preroll/prerolld.conf if it exists)")
    ("check-config", "validate the configuration, print every problem, exit 0 or 1");
  // clang-format on
  return d;
}

// Walks options in the order given, attaching each --min-count/--within to
// the --trigger before it.
void collect_triggers(const std::vector<po::option>& opts, std::vector<TriggerSpec>& out,
                      std::vector<std::string>& problems) {
  for (const auto& o : opts) {
    if (o.value.empty()) continue;
    const std::string& v = o.value.front();
    if (o.string_key == "trigger") {
      TriggerSpec t;
      if (v.rfind("re:", 0) == 0) {
        t.kind = PatternKind::regex;
        t.text = v.substr(3);
      } else if (v.rfind("lit:", 0) == 0) {
        t.text = v.substr(4);
      } else {
        t.text = v;
      }
      if (t.text.empty()) problems.push_back("--trigger '" + v + "': an empty pattern would match every event");
      out.push_back(std::move(t));
    } else if (o.string_key == "min-count" || o.string_key == "within") {
      if (out.empty()) {
        problems.push_back("--" + o.string_key + " " + v + ": must follow the --trigger it applies to");
        continue;
      }
      char* end = nullptr;
      if (o.string_key == "min-count") {
        const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > 1000000) {
          problems.push_back("--min-count " + v + ": must be a whole number from 1 to 1000000");
          continue;
        }
        out.back().min_count = static_cast<std::uint32_t>(n);
      } else {
        const double s = std::strtod(v.c_str(), &end);
        if (*end != '\0' || !(s > 0) || s > 86400 * 7) {
          problems.push_back("--within " + v + ": must be a number of seconds above 0 and at most a week");
          continue;
        }
        out.back().within_ns = static_cast<std::uint64_t>(std::llround(s * 1e9));
      }
    }
  }
  for (const auto& t : out)
    if ((t.min_count > 1) != (t.within_ns > 0))
      problems.push_back("--trigger '" + t.text + "': --min-count and --within go together");
}

void parse_storage_options(const po::variables_map& vm, StorageConfig& out, std::vector<std::string>& problems) {
  const std::string compress = vm["compress"].as<std::string>();
  if (!atf::parse_compression(compress, out.compression))
    problems.push_back("--compress must be zstd or none, not '" + compress + "'");
  out.zstd_level = vm["compress-level"].as<int>();
  if (out.zstd_level < 1 || out.zstd_level > 19)
    problems.push_back("--compress-level " + std::to_string(out.zstd_level) + " outside 1-19");
  const std::string fsync = vm["fsync"].as<std::string>();
  if (auto p = parse_fsync_policy(fsync)) out.fsync = *p;
  else problems.push_back("--fsync must be window, interval or never, not '" + fsync + "'");
  const double interval = vm["fsync-interval"].as<double>();
  if (!(interval >= 0.01) || interval > 3600) {
    problems.push_back("--fsync-interval " + std::to_string(interval) + " outside 0.01-3600 seconds");
  } else {
    out.fsync_interval_ns = static_cast<std::uint64_t>(std::llround(interval * 1e9));
  }
  const std::string file_size = vm["max-file-size"].as<std::string>();
  if (auto n = parse_size(file_size); n && (*n == 0 || *n >= 4096)) out.max_file_size = *n;
  else problems.push_back("--max-file-size '" + file_size + "' is not 0 or a size of at least 4K (e.g. 64M)");
  const std::string quota = vm["max-disk-usage"].as<std::string>();
  if (quota == "auto") {
    out.max_disk_usage.reset();
  } else if (auto n = parse_size(quota); n && (*n == 0 || *n >= 65536)) {
    out.max_disk_usage = *n;
  } else {
    problems.push_back("--max-disk-usage '" + quota + "' is not auto, 0 or a size of at least 64K (e.g. 2G)");
  }
}

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const argv[], const std::string& default_config_file) {
  ParseOutcome out;
  DaemonConfig cfg;
  for (int i = 0; i < argc; ++i) cfg.argv.emplace_back(argv[i]);
  const po::options_description shared = file_options();
  po::options_description all;
  all.add(command_line_only()).add(shared);

  po::variables_map vm;
  std::vector<TriggerSpec> cli_triggers, file_triggers;
  std::vector<std::string> problems;
  try {
    const po::parsed_options cli = po::command_line_parser(argc, argv).options(all).run();
    po::store(cli, vm);
    collect_triggers(cli.options, cli_triggers, problems);
    if (vm.count("help") == 0 && vm.count("version") == 0) {
      std::string file;
      if (vm.count("config")) {
        file = vm["config"].as<std::string>();
      } else if (!default_config_file.empty() && std::filesystem::exists(default_config_file)) {
        file = default_config_file;
      }
      if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
          out.exit_code = 1;
          out.message = "prerolld: cannot read config file " + file;
          return out;
        }
        // Stored after the command line: for single values the first store
        // wins, so the command line does.
        const po::parsed_options from_file = po::parse_config_file(in, shared, false);
        po::store(from_file, vm);
        collect_triggers(from_file.options, file_triggers, problems);
        cfg.config_file = file;
      }
    }
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
      << all;
    out.message = s.str();
    return out;
  }
  if (vm.count("version")) {
    out.message = "prerolld " PREROLL_VERSION;
    return out;
  }

  // The command line's triggers replace the file's (the command line wins).
  cfg.policy.triggers = cli_triggers.empty() ? file_triggers : cli_triggers;
  if (vm.count("socket")) cfg.socket_path = vm["socket"].as<std::string>();
  if (vm.count("output-dir")) cfg.output_dir = vm["output-dir"].as<std::string>();
  cfg.log_level = vm["log-level"].as<std::string>();
  cfg.poll_interval_ms = vm["poll-interval-ms"].as<Unsigned<std::uint32_t>>().value;
  cfg.max_segment_size = vm["max-segment-size"].as<Unsigned<std::uint64_t>>().value;
  cfg.hello_timeout_s = vm["hello-timeout"].as<Unsigned<std::uint32_t>>().value;
  cfg.max_clients = vm["max-clients"].as<Unsigned<std::uint32_t>>().value;
  cfg.max_clients_per_user = vm["max-clients-per-user"].as<Unsigned<std::uint32_t>>().value;
  cfg.max_control_connections = vm["max-control-connections"].as<Unsigned<std::uint32_t>>().value;
  cfg.max_control_connections_per_user = vm["max-control-connections-per-user"].as<Unsigned<std::uint32_t>>().value;
  cfg.policy.ignore_case = vm["ignore-case"].as<bool>();
  cfg.policy.strict_patterns = vm["strict-patterns"].as<bool>();
  cfg.check_only = vm.count("check-config") != 0;

  const std::string marking = vm["marking"].as<std::string>();
  if (marking == "on" || marking == "off") {
    cfg.policy.marking = marking == "on";
  } else {
    problems.push_back("--marking must be 'on' or 'off', not '" + marking + "'");
  }
  cfg.policy.pre_roll = vm["pre-roll"].as<Unsigned<std::uint32_t>>().value;
  cfg.policy.post_roll = vm["post-roll"].as<Unsigned<std::uint32_t>>().value;
  if (cfg.policy.pre_roll > 62) problems.push_back("--pre-roll " + std::to_string(cfg.policy.pre_roll) + " above 62");
  if (cfg.policy.post_roll > 1000000)
    problems.push_back("--post-roll " + std::to_string(cfg.policy.post_roll) + " above 1000000");
  const double flush_after = vm["flush-after"].as<double>();
  if (!(flush_after >= 0) || flush_after > 3600) {
    problems.push_back("--flush-after " + std::to_string(flush_after) + " outside 0-3600 seconds");
  } else {
    cfg.policy.flush_after_ns = static_cast<std::uint64_t>(std::llround(flush_after * 1e9));
  }
  const std::string scope = vm["scope"].as<std::string>();
  if (scope == "lane" || scope == "process") {
    cfg.policy.process_scope = scope == "process";
  } else {
    problems.push_back("--scope must be lane or process, not '" + scope + "'");
  }
  cfg.policy.on_crash = vm["on-crash"].as<std::string>();
  if (cfg.policy.on_crash != "marked" && cfg.policy.on_crash != "all" && cfg.policy.on_crash != "none")
    problems.push_back("--on-crash must be marked, all or none, not '" + cfg.policy.on_crash + "'");
  const std::string field = vm["trigger-field"].as<std::string>();
  if (field == "any") {
    cfg.policy.trigger_field = PatternField::any;
  } else if (field == "name") {
    cfg.policy.trigger_field = PatternField::name;
  } else if (field == "message") {
    cfg.policy.trigger_field = PatternField::message;
  } else {
    problems.push_back("--trigger-field must be name, message or any, not '" + field + "'");
  }
  const std::string level = vm["trigger-level"].as<std::string>();
  if (auto l = parse_level(level)) {
    cfg.policy.trigger_level = *l;
  } else {
    problems.push_back("--trigger-level '" + level + "' is not one of trace|debug|info|warn|error|fatal|none");
  }
  static const char* const log_levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool log_ok = false;
  for (const char* l : log_levels) log_ok = log_ok || cfg.log_level == l;
  if (!log_ok)
    problems.push_back("--log-level '" + cfg.log_level + "' is not one of trace|debug|info|warn|error|critical|off");
  if (cfg.poll_interval_ms < 1 || cfg.poll_interval_ms > 10000)
    problems.push_back("--poll-interval-ms " + std::to_string(cfg.poll_interval_ms) + " outside 1-10000");
  if (cfg.hello_timeout_s < 1 || cfg.hello_timeout_s > 3600)
    problems.push_back("--hello-timeout " + std::to_string(cfg.hello_timeout_s) + " outside 1-3600 seconds");
  if (cfg.max_clients < 1 || cfg.max_clients > 1000000)
    problems.push_back("--max-clients " + std::to_string(cfg.max_clients) + " outside 1-1000000");
  if (cfg.max_clients_per_user < 1 || cfg.max_clients_per_user > 1000000)
    problems.push_back("--max-clients-per-user " + std::to_string(cfg.max_clients_per_user) + " outside 1-1000000");
  if (cfg.max_control_connections < 1 || cfg.max_control_connections > 65536)
    problems.push_back("--max-control-connections " + std::to_string(cfg.max_control_connections) +
                       " outside 1-65536");
  if (cfg.max_control_connections_per_user < 1 || cfg.max_control_connections_per_user > 65536)
    problems.push_back("--max-control-connections-per-user " + std::to_string(cfg.max_control_connections_per_user) +
                       " outside 1-65536");
  parse_storage_options(vm, cfg.storage, problems);

  if (!problems.empty()) {
    out.exit_code = 1;
    for (const auto& p : problems) out.message += (out.message.empty() ? "" : "\n") + ("prerolld: " + p);
    return out;
  }
  if (cfg.socket_path.empty()) cfg.socket_path = shm::default_socket_path();
  if (cfg.output_dir.empty()) cfg.output_dir = default_output_dir();
  out.config = std::move(cfg);
  return out;
}

}  // namespace preroll::daemon
