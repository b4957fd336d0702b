// prerolld's command line: defaults, every option, and clear errors.
#include <catch2/catch.hpp>
#include <vector>

#include "config.hpp"

using preroll::daemon::parse_command_line;

namespace {
preroll::daemon::ParseOutcome parse(std::vector<const char*> args) {
  args.insert(args.begin(), "prerolld");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("no options gives the built-in defaults") {
  const auto r = parse({});
  REQUIRE(r.config.has_value());
  CHECK(r.config->marking);
  CHECK(r.config->triggers.empty());
  CHECK_FALSE(r.config->socket_path.empty());
  CHECK_FALSE(r.config->output_dir.empty());
}

TEST_CASE("repeated triggers, marking off and paths are taken") {
  const auto r = parse({"--trigger", "a", "--trigger", "b", "--marking", "off", "--socket", "/tmp/x.sock",
                        "--output-dir", "/tmp/out"});
  REQUIRE(r.config.has_value());
  CHECK(r.config->triggers == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(r.config->marking);
  CHECK(r.config->socket_path == "/tmp/x.sock");
  CHECK(r.config->output_dir == "/tmp/out");
}

TEST_CASE("bad values exit 1 naming the option") {
  for (auto args : std::vector<std::vector<const char*>>{{"--marking", "maybe"},
                                                         {"--log-level", "loud"},
                                                         {"--trigger", ""},
                                                         {"--no-such-option"},
                                                         {"--poll-interval-ms", "0"}}) {
    const auto r = parse(args);
    CHECK_FALSE(r.config.has_value());
    CHECK(r.exit_code == 1);
    CHECK(r.message.find(std::string(args[0]).substr(0, 6)) != std::string::npos);
  }
}

TEST_CASE("help exits 0 with the option list") {
  const auto r = parse({"--help"});
  CHECK_FALSE(r.config.has_value());
  CHECK(r.exit_code == 0);
  CHECK(r.message.find("--trigger") != std::string::npos);
}
