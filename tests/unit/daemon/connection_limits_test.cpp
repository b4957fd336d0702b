// The connection limits (--max-clients, --max-clients-per-user, and the
// control socket's), the control socket's reserve for root, and the options
// that set every limit: defaults, ranges, errors.
#include <catch2/catch.hpp>

#include <vector>

#include "config.hpp"
#include "connection_limits.hpp"
#include "control/control_server.hpp"
#include "parse_options.hpp"

using preroll::daemon::ConnectionLimits;
using preroll::daemon::control::reserved_for_privileged;
using preroll::test::parse_options;
using Verdict = ConnectionLimits::Verdict;

TEST_CASE("connection limits: per user first fills, other users still get in, up to the total") {
  ConnectionLimits l;
  for (int i = 0; i < 3; ++i) CHECK(l.admit(1000, 5, 3) == Verdict::admitted);
  CHECK(l.admit(1000, 5, 3) == Verdict::per_user);
  CHECK(l.of(1000) == 3);
  CHECK(l.admit(0, 5, 3) == Verdict::admitted);  // root counts like anyone
  CHECK(l.admit(1001, 5, 3) == Verdict::admitted);
  CHECK(l.total() == 5);
  CHECK(l.admit(1002, 5, 3) == Verdict::max_clients);  // the total, whoever asks
  CHECK(l.of(1002) == 0);                              // a refusal leaves nothing behind
  l.release(1000);
  CHECK(l.admit(1000, 5, 3) == Verdict::admitted);  // a place freed is a place taken
  CHECK(l.total() == 5);
}

TEST_CASE("connection limits: every release gives back exactly one place, a stray release changes nothing") {
  ConnectionLimits l;
  CHECK(l.admit(7, 10, 10) == Verdict::admitted);
  l.release(7);
  l.release(7);
  l.release(8);
  CHECK(l.total() == 0);
  CHECK(l.of(7) == 0);
  for (int i = 0; i < 10; ++i) CHECK(l.admit(7, 10, 10) == Verdict::admitted);
  CHECK(l.admit(7, 10, 10) == Verdict::max_clients);
}

TEST_CASE("control socket: an eighth of the connections, at least one of two or more, is kept for root") {
  CHECK(reserved_for_privileged(1) == 0);  // a single connection is anyone's
  CHECK(reserved_for_privileged(2) == 1);
  CHECK(reserved_for_privileged(4) == 1);
  CHECK(reserved_for_privileged(15) == 1);
  CHECK(reserved_for_privileged(16) == 2);
  CHECK(reserved_for_privileged(64) == 8);
  CHECK(reserved_for_privileged(65536) == 8192);
}

TEST_CASE("limit options: defaults, values taken, ranges checked naming the option and the value") {
  const auto d = parse_options({});
  REQUIRE(d.config.has_value());
  CHECK(d.config->hello_timeout_s == 5);
  CHECK(d.config->max_clients == 4096);
  CHECK(d.config->max_clients_per_user == 1024);
  CHECK(d.config->max_control_connections == 64);
  CHECK(d.config->max_control_connections_per_user == 8);

  const auto r = parse_options({"--hello-timeout", "2", "--max-clients", "10", "--max-clients-per-user", "3",
                                "--max-control-connections", "4", "--max-control-connections-per-user", "2"});
  REQUIRE(r.config.has_value());
  CHECK(r.config->hello_timeout_s == 2);
  CHECK(r.config->max_clients == 10);
  CHECK(r.config->max_clients_per_user == 3);
  CHECK(r.config->max_control_connections == 4);
  CHECK(r.config->max_control_connections_per_user == 2);

  for (auto args : std::vector<std::vector<const char*>>{{"--hello-timeout", "0"},
                                                         {"--hello-timeout", "3601"},
                                                         {"--hello-timeout", "-1"},
                                                         {"--max-clients", "0"},
                                                         {"--max-clients", "1000001"},
                                                         {"--max-clients-per-user", "0"},
                                                         {"--max-clients-per-user", "lots"},
                                                         {"--max-control-connections", "0"},
                                                         {"--max-control-connections", "65537"},
                                                         {"--max-control-connections-per-user", "0"},
                                                         {"--max-control-connections-per-user", "65537"}}) {
    const auto bad = parse_options(args);
    INFO(args[0] << " " << args[1] << " -> " << bad.message);
    CHECK_FALSE(bad.config.has_value());
    CHECK(bad.exit_code == 1);
    CHECK(bad.message.find(args[0]) != std::string::npos);
    CHECK(bad.message.find(args[1]) != std::string::npos);
  }
}

TEST_CASE("limit options are listed in --help") {
  const auto h = parse_options({"--help"});
  for (const char* o : {"--hello-timeout", "--max-clients ", "--max-clients-per-user", "--max-control-connections ",
                        "--max-control-connections-per-user"})
    CHECK(h.message.find(o) != std::string::npos);
}
