// prerolld's configuration at its edges: each option's accepted values and
// both ends of its range, the count conditions of --trigger and their
// mistakes, every problem reported at once, the config file's errors, and
// where files go by default.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "parse_options.hpp"

namespace pd = preroll::daemon;
using preroll::test::parse_options;

namespace {

// The outcome of a command line that must be refused: its message.
std::string cfgval_refusal(std::vector<const char*> args) {
  const auto r = parse_options(std::move(args));
  CHECK_FALSE(r.config.has_value());
  CHECK(r.exit_code == 1);
  return r.message;
}

// A config line or the command line that must be accepted.
pd::DaemonConfig cfgval_accepted(std::vector<const char*> args) {
  const auto r = parse_options(std::move(args));
  INFO(r.message);
  REQUIRE(r.config.has_value());
  CHECK(r.message.empty());
  return *r.config;
}

// A config file holding `text`, removed at the end of the scope.
class CfgvalFile {
 public:
  explicit CfgvalFile(const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("prerolld-cfgval-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".conf")) {
    std::ofstream(path_) << text;
  }
  ~CfgvalFile() { std::filesystem::remove(path_); }
  CfgvalFile(const CfgvalFile&) = delete;
  CfgvalFile& operator=(const CfgvalFile&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// Sets (or unsets, with nullptr) an environment variable for a scope.
class CfgvalEnv {
 public:
  CfgvalEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~CfgvalEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  CfgvalEnv(const CfgvalEnv&) = delete;
  CfgvalEnv& operator=(const CfgvalEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("config: trigger prefixes choose regex or literal, and lit: keeps a literal re:", "[config]") {
  const auto cfg = cfgval_accepted({"--trigger", "re:time.*out", "--trigger", "lit:re:x", "--trigger", "plain"});
  REQUIRE(cfg.policy.triggers.size() == 3);
  CHECK(cfg.policy.triggers[0].kind == pd::PatternKind::regex);
  CHECK(cfg.policy.triggers[0].text == "time.*out");
  CHECK(cfg.policy.triggers[1].kind == pd::PatternKind::literal);
  CHECK(cfg.policy.triggers[1].text == "re:x");
  CHECK(cfg.policy.triggers[2].kind == pd::PatternKind::literal);
  CHECK(cfg.policy.triggers[2].text == "plain");
  for (const char* empty : {"re:", "lit:"}) {
    const auto message = cfgval_refusal({"--trigger", empty});
    CHECK(message == std::string("prerolld: --trigger '") + empty + "': an empty pattern would match every event");
  }
}

TEST_CASE("config: --min-count and --within attach to the trigger before them", "[config]") {
  const auto cfg =
      cfgval_accepted({"--trigger", "a", "--trigger", "b", "--min-count", "3", "--within", "0.5", "--trigger", "c"});
  REQUIRE(cfg.policy.triggers.size() == 3);
  CHECK(cfg.policy.triggers[0].min_count == 1);
  CHECK(cfg.policy.triggers[0].within_ns == 0);
  CHECK(cfg.policy.triggers[1].min_count == 3);
  CHECK(cfg.policy.triggers[1].within_ns == 500'000'000u);
  CHECK(cfg.policy.triggers[2].min_count == 1);
  // The top of each range.
  const auto top = cfgval_accepted({"--trigger", "a", "--min-count", "1000000", "--within", "604800"});
  CHECK(top.policy.triggers[0].min_count == 1000000u);
  CHECK(top.policy.triggers[0].within_ns == 604800ull * 1'000'000'000ull);
  // A min-count of 1 needs no window.
  CHECK(cfgval_accepted({"--trigger", "a", "--min-count", "1"}).policy.triggers[0].min_count == 1);
}

TEST_CASE("config: count conditions out of place or out of range are each reported", "[config]") {
  // Before any trigger: refused, and the trigger after it has no condition.
  CHECK(cfgval_refusal({"--min-count", "3", "--trigger", "a"}) ==
        "prerolld: --min-count 3: must follow the --trigger it applies to");
  CHECK(cfgval_refusal({"--within", "2", "--trigger", "a"}) ==
        "prerolld: --within 2: must follow the --trigger it applies to");
  for (const char* n : {"0", "1000001"}) {
    INFO(n);
    CHECK(cfgval_refusal({"--trigger", "a", "--min-count", n, "--within", "1"}) ==
          std::string("prerolld: --min-count ") + n + ": must be a whole number from 1 to 1000000\n" +
              "prerolld: --trigger 'a': --min-count and --within go together");
  }
  for (const char* s : {"0", "-1", "604801", "nan"}) {
    INFO(s);
    CHECK(cfgval_refusal({"--trigger", "a", "--min-count", "2", "--within", s}) ==
          std::string("prerolld: --within ") + s + ": must be a number of seconds above 0 and at most a week\n" +
              "prerolld: --trigger 'a': --min-count and --within go together");
  }
  // A --within alone, without a count.
  CHECK(cfgval_refusal({"--trigger", "a", "--within", "5"}) ==
        "prerolld: --trigger 'a': --min-count and --within go together");
  // Not numbers at all: program_options' own message, naming the option.
  CHECK_THAT(cfgval_refusal({"--trigger", "a", "--min-count", "many"}), Catch::Contains("min-count"));
  CHECK_THAT(cfgval_refusal({"--trigger", "a", "--within", "soon"}), Catch::Contains("within"));
}

TEST_CASE("config: every choice of the policy options is taken", "[config]") {
  const auto a = cfgval_accepted({"--trigger-field", "name", "--scope", "process", "--on-crash", "all",
                                  "--trigger-level", "none", "--ignore-case", "--strict-patterns", "--check-config"});
  CHECK(a.policy.trigger_field == pd::PatternField::name);
  CHECK(a.policy.process_scope);
  CHECK(a.policy.on_crash == "all");
  CHECK(a.policy.trigger_level == -1);
  CHECK(a.policy.ignore_case);
  CHECK(a.policy.strict_patterns);
  CHECK(a.check_only);
  const auto b = cfgval_accepted({"--trigger-field", "message", "--scope", "lane", "--on-crash", "none",
                                  "--trigger-level", "trace", "--marking", "on", "--log-level", "off"});
  CHECK(b.policy.trigger_field == pd::PatternField::message);
  CHECK_FALSE(b.policy.process_scope);
  CHECK(b.policy.on_crash == "none");
  CHECK(b.policy.trigger_level == 0);
  CHECK(b.policy.marking);
  CHECK(b.log_level == "off");
  CHECK_FALSE(b.check_only);
  const auto c = cfgval_accepted({"--trigger-field", "any", "--on-crash", "marked", "--trigger-level", "fatal"});
  CHECK(c.policy.trigger_field == pd::PatternField::any);
  CHECK(c.policy.on_crash == "marked");
  CHECK(c.policy.trigger_level == 5);
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    CHECK(cfgval_accepted({"--log-level", level}).log_level == level);
}

TEST_CASE("config: levels by name, and nothing else", "[config]") {
  CHECK(pd::parse_level("none") == -1);
  int expected = 0;
  for (const char* name : {"trace", "debug", "info", "warn", "error", "fatal"})
    CHECK(pd::parse_level(name) == expected++);
  CHECK_FALSE(pd::parse_level("").has_value());
  CHECK_FALSE(pd::parse_level("ERROR").has_value());
  CHECK_FALSE(pd::parse_level("critical").has_value());
}

TEST_CASE("config: numeric limits accept both ends of their range and name the value outside it", "[config]") {
  struct Range {
    const char* option;
    const char* low;
    const char* high;
    const char* below;  // nullptr: there is no value below (0 is allowed)
    const char* above;
    const char* outside;  // the message's end
  };
  const Range ranges[] = {
      {"--poll-interval-ms", "1", "10000", "0", "10001", " outside 1-10000"},
      {"--hello-timeout", "1", "3600", "0", "3601", " outside 1-3600 seconds"},
      {"--max-clients", "1", "1000000", "0", "1000001", " outside 1-1000000"},
      {"--max-clients-per-user", "1", "1000000", "0", "1000001", " outside 1-1000000"},
      {"--max-control-connections", "1", "65536", "0", "65537", " outside 1-65536"},
      {"--max-control-connections-per-user", "1", "65536", "0", "65537", " outside 1-65536"},
      {"--pre-roll", "0", "62", nullptr, "63", " above 62"},
      {"--post-roll", "0", "1000000", nullptr, "1000001", " above 1000000"},
  };
  for (const auto& r : ranges) {
    INFO(r.option);
    cfgval_accepted({r.option, r.low});
    cfgval_accepted({r.option, r.high});
    if (r.below != nullptr)
      CHECK(cfgval_refusal({r.option, r.below}) == std::string("prerolld: ") + r.option + " " + r.below + r.outside);
    CHECK(cfgval_refusal({r.option, r.above}) == std::string("prerolld: ") + r.option + " " + r.above + r.outside);
  }
  const auto cfg = cfgval_accepted({"--poll-interval-ms", "7", "--hello-timeout", "9", "--max-clients", "11",
                                    "--max-clients-per-user", "3", "--max-control-connections", "2", "--pre-roll", "5",
                                    "--post-roll", "4", "--max-segment-size", "18446744073709551615"});
  CHECK(cfg.poll_interval_ms == 7);
  CHECK(cfg.hello_timeout_s == 9);
  CHECK(cfg.max_clients == 11);
  CHECK(cfg.max_clients_per_user == 3);
  CHECK(cfg.max_control_connections == 2);
  CHECK(cfg.policy.pre_roll == 5);
  CHECK(cfg.policy.post_roll == 4);
  CHECK(cfg.max_segment_size == 18446744073709551615ull);
  // One past the type's range is not wrapped.
  CHECK_THAT(cfgval_refusal({"--max-segment-size", "18446744073709551616"}),
             Catch::Contains("'18446744073709551616'") && Catch::Contains("max-segment-size"));
  CHECK_THAT(cfgval_refusal({"--pre-roll", "4294967296"}), Catch::Contains("'4294967296'"));
  CHECK_THAT(cfgval_refusal({"--hello-timeout", "5s"}), Catch::Contains("'5s'"));
}

TEST_CASE("config: seconds options at both ends and beyond", "[config]") {
  CHECK(cfgval_accepted({"--flush-after", "0"}).policy.flush_after_ns == 0);
  CHECK(cfgval_accepted({"--flush-after", "3600"}).policy.flush_after_ns == 3600ull * 1'000'000'000ull);
  CHECK(cfgval_accepted({"--flush-after", "0.25"}).policy.flush_after_ns == 250'000'000u);
  CHECK(cfgval_refusal({"--flush-after", "3600.5"}) == "prerolld: --flush-after 3600.500000 outside 0-3600 seconds");
  CHECK(cfgval_refusal({"--flush-after", "nan"}) == "prerolld: --flush-after nan outside 0-3600 seconds");
  CHECK(cfgval_accepted({"--fsync-interval", "0.01"}).storage.fsync_interval_ns == 10'000'000u);
  CHECK(cfgval_accepted({"--fsync-interval", "3600"}).storage.fsync_interval_ns == 3600ull * 1'000'000'000ull);
  CHECK(cfgval_refusal({"--fsync-interval", "0.001"}) ==
        "prerolld: --fsync-interval 0.001000 outside 0.01-3600 seconds");
  CHECK(cfgval_refusal({"--fsync-interval", "3601"}) ==
        "prerolld: --fsync-interval 3601.000000 outside 0.01-3600 seconds");
  CHECK(cfgval_refusal({"--fsync-interval", "nan"}) == "prerolld: --fsync-interval nan outside 0.01-3600 seconds");
}

TEST_CASE("config: storage sizes at their minimums, and each storage choice", "[config]") {
  CHECK(cfgval_accepted({"--max-file-size", "4K"}).storage.max_file_size == 4096u);
  CHECK(cfgval_accepted({"--max-file-size", "0"}).storage.max_file_size == 0u);
  CHECK(cfgval_refusal({"--max-file-size", "4095"}) ==
        "prerolld: --max-file-size '4095' is not 0 or a size of at least 4K (e.g. 64M)");
  CHECK(cfgval_accepted({"--max-disk-usage", "64K"}).storage.max_disk_usage == 65536u);
  CHECK_FALSE(cfgval_accepted({"--max-disk-usage", "auto"}).storage.max_disk_usage.has_value());
  CHECK(cfgval_refusal({"--max-disk-usage", "65535"}) ==
        "prerolld: --max-disk-usage '65535' is not auto, 0 or a size of at least 64K (e.g. 2G)");
  CHECK(cfgval_refusal({"--max-disk-usage", "AUTO"}) ==
        "prerolld: --max-disk-usage 'AUTO' is not auto, 0 or a size of at least 64K (e.g. 2G)");
  CHECK(cfgval_accepted({"--compress-level", "1"}).storage.zstd_level == 1);
  CHECK(cfgval_accepted({"--compress-level", "19"}).storage.zstd_level == 19);
  CHECK(cfgval_refusal({"--compress-level", "0"}) == "prerolld: --compress-level 0 outside 1-19");
  CHECK(cfgval_refusal({"--compress-level", "-4"}) == "prerolld: --compress-level -4 outside 1-19");
  CHECK(cfgval_accepted({"--fsync", "never"}).storage.fsync == pd::FsyncPolicy::never);
  CHECK(cfgval_accepted({"--fsync", "interval"}).storage.fsync == pd::FsyncPolicy::interval);
  CHECK(cfgval_refusal({"--compress", "lz4"}) == "prerolld: --compress must be zstd or none, not 'lz4'");
}

TEST_CASE("config: every problem of one command line is reported, one a line, in order", "[config]") {
  const auto message = cfgval_refusal({"--marking", "maybe", "--scope", "thread", "--poll-interval-ms", "0",
                                       "--compress", "lz4", "--trigger-level", "loud"});
  CHECK(message ==
        "prerolld: --marking must be 'on' or 'off', not 'maybe'\n"
        "prerolld: --scope must be lane or process, not 'thread'\n"
        "prerolld: --trigger-level 'loud' is not one of trace|debug|info|warn|error|fatal|none\n"
        "prerolld: --poll-interval-ms 0 outside 1-10000\n"
        "prerolld: --compress must be zstd or none, not 'lz4'");
}

TEST_CASE("config: version and help answer without reading the config file", "[config]") {
  const auto version = parse_options({"--version", "--config", "/nonexistent/prerolld.conf"});
  CHECK_FALSE(version.config.has_value());
  CHECK(version.exit_code == 0);
  CHECK(version.message == "prerolld " PREROLL_VERSION);
  const auto help = parse_options({"--help", "--config", "/nonexistent/prerolld.conf"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.message, Catch::StartsWith("Usage: prerolld [OPTIONS]"));
  CHECK_THAT(help.message, Catch::Contains("--max-disk-usage"));
  CHECK_THAT(help.message, Catch::Contains("--check-config"));
  // Without either, the missing file is an error.
  CHECK(cfgval_refusal({"--config", "/nonexistent/prerolld.conf"}) ==
        "prerolld: cannot read config file /nonexistent/prerolld.conf");
}

TEST_CASE("config: a command line keeps the words it was given, for a reload", "[config]") {
  const auto cfg = cfgval_accepted({"--trigger", "x", "--pre-roll", "2"});
  CHECK(cfg.argv == std::vector<std::string>{"prerolld", "--trigger", "x", "--pre-roll", "2"});
  CHECK(cfg.config_file.empty());
}

TEST_CASE("config: the default config file is read when it exists, and --config replaces it", "[config]") {
  const CfgvalFile def("pre-roll = 7\ntrigger = from-default\n");
  const char* argv1[] = {"prerolld"};
  auto r = pd::parse_command_line(1, argv1, def.path());
  REQUIRE(r.config.has_value());
  CHECK(r.config->config_file == def.path());
  CHECK(r.config->policy.pre_roll == 7);
  REQUIRE(r.config->policy.triggers.size() == 1);
  CHECK(r.config->policy.triggers[0].text == "from-default");

  const CfgvalFile other("pre-roll = 3\n");
  const std::string other_path = other.path();
  const char* argv2[] = {"prerolld", "--config", other_path.c_str()};
  r = pd::parse_command_line(3, argv2, def.path());
  REQUIRE(r.config.has_value());
  CHECK(r.config->config_file == other_path);
  CHECK(r.config->policy.pre_roll == 3);
  CHECK(r.config->policy.triggers.empty());

  // A default that does not exist is no error: the built-in defaults.
  r = pd::parse_command_line(1, argv1, def.path() + ".absent");
  REQUIRE(r.config.has_value());
  CHECK(r.config->config_file.empty());
  CHECK(r.config->policy.pre_roll == 1);
}

TEST_CASE("config: a config file's count conditions, unknown options and single values", "[config]") {
  const CfgvalFile counted("trigger = slow\nmin-count = 4\nwithin = 2.5\nmin-count = 0\n");
  CHECK(cfgval_refusal({"--config", counted.path().c_str()}) ==
        "prerolld: --min-count 0: must be a whole number from 1 to 1000000");
  const CfgvalFile orphan("within = 3\n");
  CHECK(cfgval_refusal({"--config", orphan.path().c_str()}) ==
        "prerolld: --within 3: must follow the --trigger it applies to");
  const CfgvalFile unknown("no-such-option = 1\n");
  CHECK_THAT(cfgval_refusal({"--config", unknown.path().c_str()}), Catch::StartsWith("prerolld: ") &&
                                                                       Catch::Contains("no-such-option") &&
                                                                       Catch::EndsWith("\nTry 'prerolld --help'."));
  // A command-line-only option is not an option of the file.
  const CfgvalFile help_in_file("help = 1\n");
  CHECK_THAT(cfgval_refusal({"--config", help_in_file.path().c_str()}), Catch::Contains("help"));
  const CfgvalFile bad_number("pre-roll = -1\n");
  CHECK_THAT(cfgval_refusal({"--config", bad_number.path().c_str()}),
             Catch::Contains("'-1'") && Catch::Contains("pre-roll"));
  // Given twice on the command line: refused rather than one silently chosen.
  CHECK_THAT(cfgval_refusal({"--pre-roll", "1", "--pre-roll", "2"}), Catch::Contains("pre-roll"));
}

TEST_CASE("config: files go to /var/lib as root, else to XDG_STATE_HOME, HOME or /tmp", "[config]") {
  if (::geteuid() == 0) CHECK(pd::default_output_dir() == "/var/lib/preroll");
  // As another user (the real uid stays root, so it can be taken back).
  const uid_t real = ::getuid();
  const bool switched = real == 0 && ::seteuid(65534) == 0;
  if (!switched && ::geteuid() == 0) return;  // root without a way out: nothing more to check
  {
    const CfgvalEnv xdg("XDG_STATE_HOME", "/state/home");
    const CfgvalEnv home("HOME", "/home/someone");
    const std::string xdg_dir = pd::default_output_dir();
    const std::string xdg_expected = "/state/home/preroll";
    ::setenv("XDG_STATE_HOME", "relative/path", 1);  // not absolute: ignored
    const std::string home_dir = pd::default_output_dir();
    ::unsetenv("XDG_STATE_HOME");
    const std::string home_dir2 = pd::default_output_dir();
    ::setenv("HOME", "", 1);
    const std::string tmp_dir = pd::default_output_dir();
    ::unsetenv("HOME");
    const std::string tmp_dir2 = pd::default_output_dir();
    const std::string tmp_expected = "/tmp/preroll-" + std::to_string(::geteuid()) + "/state";
    if (switched) REQUIRE(::seteuid(0) == 0);
    CHECK(xdg_dir == xdg_expected);
    CHECK(home_dir == "/home/someone/.local/state/preroll");
    CHECK(home_dir2 == "/home/someone/.local/state/preroll");
    CHECK(tmp_dir == tmp_expected);
    CHECK(tmp_dir2 == tmp_expected);
  }
  CHECK(::geteuid() == real);
}
