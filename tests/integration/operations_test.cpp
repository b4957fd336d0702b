// prerollctl for operators against a real prerolld: flush returns once the
// waiting marked event is on disk, stats in the Prometheus text format, top
// within 80 columns, and what a user who is neither root nor the daemon's
// may see and do.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"
#include "test_user.hpp"
#include "text_lines.hpp"

using namespace std::chrono_literals;
using preroll::test::ctl_json;
using preroll::test::CtlResult;
using preroll::test::DaemonFixture;
using preroll::test::lines_of;
using preroll::test::prerollctl;
using preroll::test::read_all;
using preroll::test::TestUser;
using preroll::test::wait_for;

namespace {

// The mark-and-idle client is attached and has marked its event.
bool marked_and_idle(DaemonFixture& d, const preroll::test::Process& client) {
  return client.out().find("\"marked\":true") != std::string::npos && ctl_json(d, "stats")["clients_current"] == 1;
}

}  // namespace

TEST_CASE("prerollctl flush writes a waiting marked event and returns once it is in the file", "[operations]") {
  // --flush-after 0: nothing but a full ring (or a flush) would write it.
  DaemonFixture d({"--flush-after", "0"});
  const auto stop = d.dir.path() / "stop";
  auto client = d.spawn_client({SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  REQUIRE(wait_for([&] { return marked_and_idle(d, *client); }, 20s));
  CHECK(read_all(d.files()).count_messages_containing("mark-then-idle") == 0);

  const CtlResult r =
      prerollctl(d.dir.path(), {"--socket", d.socket.string(), "flush", "--pid", std::to_string(client->pid())});
  INFO("prerollctl flush: " << r.out << r.err << "\nprerolld log:\n" << d.log());
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("flushed 1 client(s): 1 window(s) written"));
  // No waiting: the reply came after the write.
  CHECK(read_all(d.files()).count_messages_containing("mark-then-idle") == 1);

  const CtlResult all = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "--json", "flush"});
  CHECK(all.status == 0);
  CHECK(nlohmann::json::parse(all.out)["windows_written"] == 0);  // nothing new waits
  const CtlResult missing = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "flush", "--pid", "999999"});
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Catch::Contains("no attached client with pid 999999"));

  { std::ofstream(stop) << "stop\n"; }
  REQUIRE(client->wait(30s).has_value());
  d.stop();
  CHECK(read_all(d.files()).count_messages_containing("mark-then-idle") == 1);  // written once only
}

TEST_CASE("prerollctl stats --prometheus follows the text exposition format", "[operations]") {
  DaemonFixture d({"--trigger", "upstream timeout"});
  d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--mark-every", "5000", "--rate", "200000"});
  // The client may exit before a slow daemon has even accepted it: wait for
  // the detach, not just for no client being attached.
  REQUIRE(wait_for([&] { return ctl_json(d, "stats")["clients_detached_total"] == 1; }, 20s));
  const CtlResult r = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "stats", "--prometheus"});
  REQUIRE(r.status == 0);
  INFO(r.out);
  const std::regex help(R"(# HELP (preroll_[a-z0-9_]+) \S.*)");
  const std::regex type(R"(# TYPE (preroll_[a-z0-9_]+) (counter|gauge|summary))");
  const std::regex sample(
      R"((preroll_[a-z0-9_]+)(\{[a-z_]+="(\\.|[^"\\])*"(,[a-z_]+="(\\.|[^"\\])*")*\})? (-?[0-9.]+(e[-+]?[0-9]+)?|NaN|[+-]Inf))");
  std::set<std::string> typed;
  std::map<std::string, double> values;
  std::string family;
  for (const std::string& l : lines_of(r.out)) {
    INFO("line: " << l);
    std::smatch m;
    if (std::regex_match(l, m, help)) {
      family = m[1];
      continue;
    }
    if (std::regex_match(l, m, type)) {
      CHECK(m[1] == family);  // HELP then TYPE of the same family
      CHECK(typed.insert(m[1]).second);
      continue;
    }
    REQUIRE(std::regex_match(l, m, sample));
    const std::string name = m[1];
    // A sample belongs to the family declared last (a summary's _sum/_count too).
    CHECK((name == family || name == family + "_sum" || name == family + "_count"));
    values[l.substr(0, l.rfind(' '))] = std::stod(l.substr(l.rfind(' ') + 1));
  }
  CHECK(values.at("preroll_events_captured_total") == 20000);
  CHECK(values.at("preroll_windows_persisted_by_reason_total{reason=\"marked\"}") >= 1);
  CHECK(values.at("preroll_pattern_hits_total{id=\"0\",pattern=\"upstream timeout\"}") == 4);
  CHECK(values.count("preroll_decision_latency_seconds{quantile=\"0.99\"}") == 1);
  CHECK(values.at("preroll_decision_latency_seconds_count") >= 1);
  CHECK(values.count("preroll_events_lost_total{cause=\"overwritten\"}") == 1);
  CHECK(values.at("preroll_disk_usage_bytes") > 0);
  d.stop();
}

TEST_CASE("prerollctl top refreshes within 80 columns and lists the busy client", "[operations]") {
  DaemonFixture d;
  const auto stop = d.dir.path() / "stop";
  auto client = d.spawn_client({SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  REQUIRE(wait_for([&] { return marked_and_idle(d, *client); }, 20s));
  const CtlResult r = prerollctl(
      d.dir.path(), {"--socket", d.socket.string(), "top", "--iterations", "2", "--interval", "0.2"});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  int headers = 0;
  for (const std::string& l : lines_of(r.out)) {
    CHECK(l.size() <= 80);
    if (l.rfind("    PID PROCESS", 0) == 0) ++headers;
  }
  CHECK(headers == 2);  // two refreshes
  CHECK_THAT(r.out, Catch::Contains(std::to_string(client->pid()) + " scenario_client"));
  { std::ofstream(stop) << "stop\n"; }
  REQUIRE(client->wait(30s).has_value());
  const CtlResult gone = prerollctl(d.dir.path(), {"--socket", "/nonexistent-preroll/prerolld.sock", "top"});
  CHECK(gone.status == 2);
  CHECK_THAT(gone.err, Catch::Contains("/nonexistent-preroll/prerolld.ctl"));
  d.stop();
}

TEST_CASE("a user who is neither root nor the daemon's sees only their own processes and cannot mutate",
          "[operations]") {
  if (::geteuid() != 0) {
    WARN("needs root to create a user and run prerollctl and a client as it");
    return;
  }
  DaemonFixture d;
  const TestUser other(d.dir.path());
  // The other user must reach the sockets in the test directory.
  REQUIRE(::chmod(d.dir.path().c_str(), 0755) == 0);
  const auto stop = d.dir.path() / "stop";
  auto root_client = d.spawn_client({SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  auto client_argv = other.setpriv_args();
  client_argv.insert(client_argv.begin(), "/usr/bin/setpriv");
  client_argv.insert(client_argv.end(), {SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  auto other_client = d.spawn_client(client_argv);
  REQUIRE(wait_for([&] { return ctl_json(d, "stats")["clients_current"] == 2; }, 20s));
  const auto as_other = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", d.socket.string()});
    return other.run(PREROLLCTL_PATH, args);
  };

  const CtlResult clients = as_other({"--json", "clients"});
  INFO(clients.out << clients.err);
  REQUIRE(clients.status == 0);
  const auto list = nlohmann::json::parse(clients.out)["clients"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["uid"] == other.uid());
  CHECK(list[0]["pid"] == other_client->pid());
  const auto stats = nlohmann::json::parse(as_other({"--json", "stats"}).out);
  CHECK(stats["all_users"] == false);
  CHECK(stats["clients"].size() == 1);
  CHECK(stats["clients_current"] == 2);  // totals stay daemon-wide
  for (const char* cmd : {"reload", "flush"}) {
    const CtlResult denied = as_other({cmd});
    CHECK(denied.status == 1);
    CHECK_THAT(denied.err, Catch::Contains("permission denied"));
  }
  const CtlResult snap = as_other({"snapshot", "--pid", std::to_string(other_client->pid())});
  CHECK(snap.status == 1);
  CHECK_THAT(snap.err, Catch::Contains("permission denied"));
  // Root sees both.
  CHECK(ctl_json(d, "clients")["clients"].size() == 2);

  { std::ofstream(stop) << "stop\n"; }
  REQUIRE(root_client->wait(30s).has_value());
  REQUIRE(other_client->wait(30s).has_value());
  d.stop();
}
