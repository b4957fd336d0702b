// prerolld's command line: defaults, every option, and clear errors.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "config.hpp"
#include "parse_options.hpp"

using preroll::test::parse_options;

TEST_CASE("no options gives the built-in defaults") {
  const auto r = parse_options({});
  REQUIRE(r.config.has_value());
  CHECK(r.config->policy.marking);
  CHECK(r.config->policy.triggers.empty());
  CHECK(r.config->policy.trigger_level == 4);
  CHECK_FALSE(r.config->socket_path.empty());
  CHECK_FALSE(r.config->output_dir.empty());
}

TEST_CASE("repeated triggers, marking off and paths are taken") {
  const auto r = parse_options({"--trigger", "a", "--trigger", "b", "--marking", "off", "--socket", "/tmp/x.sock",
                        "--output-dir", "/tmp/out"});
  REQUIRE(r.config.has_value());
  REQUIRE(r.config->policy.triggers.size() == 2);
  CHECK(r.config->policy.triggers[1].text == "b");
  CHECK_FALSE(r.config->policy.marking);
  CHECK(r.config->socket_path == "/tmp/x.sock");
  CHECK(r.config->output_dir == "/tmp/out");
}

TEST_CASE("bad values exit 1 naming the option") {
  for (auto args : std::vector<std::vector<const char*>>{{"--marking", "maybe"},
                                                         {"--log-level", "loud"},
                                                         {"--trigger", ""},
                                                         {"--no-such-option"},
                                                         {"--poll-interval-ms", "0"}}) {
    const auto r = parse_options(args);
    CHECK_FALSE(r.config.has_value());
    CHECK(r.exit_code == 1);
    CHECK(r.message.find(std::string(args[0]).substr(0, 6)) != std::string::npos);
  }
}

TEST_CASE("every bad value is reported with its option and the value as typed") {
  // Negative numbers are not wrapped into huge unsigned ones.
  for (auto args : std::vector<std::vector<const char*>>{{"--pre-roll", "-3"},
                                                         {"--post-roll", "two"},
                                                         {"--poll-interval-ms", "-1"},
                                                         {"--max-segment-size", "1e9"},
                                                         {"--pre-roll", ""},
                                                         {"--compress-level", "99"},
                                                         {"--fsync", "sometimes"},
                                                         {"--max-disk-usage", "12Q"},
                                                         {"--max-file-size", "-1"},
                                                         {"--trigger-level", "loud"},
                                                         {"--scope", "thread"},
                                                         {"--on-crash", "maybe"},
                                                         {"--flush-after", "-2"},
                                                         {"--trigger-field", "body"}}) {
    const auto r = parse_options(args);
    INFO(args[0] << " " << args[1] << " -> " << r.message);
    CHECK_FALSE(r.config.has_value());
    CHECK(r.exit_code == 1);
    CHECK(r.message.find(args[0]) != std::string::npos);
    if (args[1][0] != '\0') CHECK(r.message.find(args[1]) != std::string::npos);
  }
}

TEST_CASE("config file supplies options and the command line wins") {
  const auto path = std::filesystem::temp_directory_path() / ("prerolld-test-" + std::to_string(::getpid()) + ".conf");
  {
    std::ofstream f(path);
    f << "# comment\ntrigger = re:timeout\nmin-count = 5\nwithin = 10\ntrigger = panic\nlog-level = debug\n"
         "socket = /tmp/from-file.sock\n";
  }
  auto r = parse_options({"--config", path.c_str(), "--socket", "/tmp/from-cli.sock"});
  REQUIRE(r.config.has_value());
  CHECK(r.config->config_file == path.string());
  CHECK(r.config->socket_path == "/tmp/from-cli.sock");
  CHECK(r.config->log_level == "debug");
  REQUIRE(r.config->policy.triggers.size() == 2);
  CHECK(r.config->policy.triggers[0].min_count == 5);
  CHECK(r.config->policy.triggers[0].within_ns == 10'000'000'000ull);
  // Triggers on the command line replace the file's.
  r = parse_options({"--config", path.c_str(), "--trigger", "only-this"});
  REQUIRE(r.config.has_value());
  REQUIRE(r.config->policy.triggers.size() == 1);
  CHECK(r.config->policy.triggers[0].text == "only-this");
  // A bad value in the file is reported with its option name.
  { std::ofstream(path) << "marking = sometimes\n"; }
  r = parse_options({"--config", path.c_str()});
  CHECK_FALSE(r.config.has_value());
  CHECK(r.message.find("--marking") != std::string::npos);
  std::filesystem::remove(path);
  r = parse_options({"--config", path.c_str()});
  CHECK_FALSE(r.config.has_value());
  CHECK(r.message.find("cannot read config file") != std::string::npos);
}

TEST_CASE("help exits 0 with the option list") {
  const auto r = parse_options({"--help"});
  CHECK_FALSE(r.config.has_value());
  CHECK(r.exit_code == 0);
  CHECK(r.message.find("--trigger") != std::string::npos);
}
