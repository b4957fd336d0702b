// The control socket without sockets, at its edges: each request member out
// of range or of the wrong type, the commands the daemon did not wire up,
// and the metrics as Prometheus text and as the stats JSON (numbers that are
// not finite, help texts that need escaping, labelled families, the last
// marked event and one object per client).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "control/control_commands.hpp"
#include "control/control_protocol.hpp"
#include "control/metrics.hpp"

namespace pc = preroll::daemon::control;
namespace pd = preroll::daemon;

namespace {

std::string ctlrep_error(std::string_view line) {
  const auto r = pc::parse_request(line);
  CHECK_FALSE(r.request.has_value());
  return r.error;
}

pc::Request ctlrep_request(pc::Command c, std::uint32_t pid = 0) {
  pc::Request r;
  r.cmd = c;
  r.pid = pid;
  return r;
}

// The metric of this name; fails the test when there is none.
const pc::Metric& ctlrep_metric(const std::vector<pc::Metric>& metrics, const std::string& name) {
  for (const auto& m : metrics)
    if (m.name == name) return m;
  FAIL("no metric " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("control request: a process id must fit 32 bits and be a whole positive number", "[control]") {
  CHECK(ctlrep_error(R"({"cmd":"flush","pid":4294967296})") == "flush: \"pid\" must be a process id");
  CHECK(ctlrep_error(R"({"cmd":"flush","pid":1.5})") == "flush: \"pid\" must be a process id");
  CHECK(ctlrep_error(R"({"cmd":"flush","pid":-3})") == "flush: \"pid\" must be a process id");
  CHECK(ctlrep_error(R"({"cmd":"flush","pid":null})") == "flush: \"pid\" must be a process id");
  const auto top = pc::parse_request(R"({"cmd":"flush","pid":4294967295})");
  REQUIRE(top.request.has_value());
  CHECK(top.request->pid == 4294967295u);
  CHECK(ctlrep_error(R"({"cmd":"snapshot","pid":4294967296})") == "snapshot needs \"pid\": a process id");
  CHECK(ctlrep_error(R"({"cmd":"snapshot","pid":0})") == "snapshot needs \"pid\": a process id");
  CHECK(ctlrep_error(R"({"cmd":"snapshot","pid":2.0})") == "snapshot needs \"pid\": a process id");
  CHECK(ctlrep_error(R"({"cmd":"snapshot","pid":9,"reason":null})") == "\"reason\" must be a string");
  const auto snap = pc::parse_request(R"({"cmd":"snapshot","pid":4294967295})");
  REQUIRE(snap.request.has_value());
  CHECK(snap.request->pid == 4294967295u);
  CHECK(snap.request->reason.empty());
}

TEST_CASE("control request: members of other commands are ignored, a long reason is cut at 256 bytes", "[control]") {
  // pid and format belong to some commands only.
  for (const char* line : {R"({"cmd":"version","pid":"x","format":7})", R"({"cmd":"policy","pid":-1})",
                           R"({"cmd":"clients","format":"xml"})", R"({"cmd":"reload","reason":5})"}) {
    INFO(line);
    const auto r = pc::parse_request(line);
    REQUIRE(r.request.has_value());
    CHECK(r.request->pid == 0);
    CHECK_FALSE(r.request->prometheus);
    CHECK(r.request->reason.empty());
  }
  const auto json = pc::parse_request(R"({"cmd":"stats","format":"json"})");
  REQUIRE(json.request.has_value());
  CHECK_FALSE(json.request->prometheus);
  CHECK(ctlrep_error(R"({"cmd":"stats","format":1})") == "stats: \"format\" must be \"json\" or \"prometheus\"");
  CHECK(ctlrep_error(R"({"cmd":"stats","format":"Prometheus"})") ==
        "stats: \"format\" must be \"json\" or \"prometheus\"");
  const std::string reason(300, 'r');
  const auto cut = pc::parse_request(R"({"cmd":"snapshot","pid":1,"reason":")" + reason + "\"}");
  REQUIRE(cut.request.has_value());
  CHECK(cut.request->reason == std::string(256, 'r'));
}

TEST_CASE("control request: an unknown command is quoted, cut after 64 bytes, with the known ones", "[control]") {
  const std::string known = " (known: version, stats, policy, clients, reload, snapshot, flush)";
  CHECK(ctlrep_error(R"({"cmd":""})") == "unknown command \"\"" + known);
  const std::string name64(64, 'n');
  CHECK(ctlrep_error(R"({"cmd":")" + name64 + "\"}") == "unknown command \"" + name64 + "\"" + known);
  CHECK(ctlrep_error(R"({"cmd":")" + name64 + "X\"}") == "unknown command \"" + name64 + "...\"" + known);
}

TEST_CASE("control request: command names and which commands change the daemon", "[control]") {
  using C = pc::Command;
  const std::pair<C, const char*> names[] = {{C::version, "version"}, {C::stats, "stats"},   {C::policy, "policy"},
                                             {C::clients, "clients"}, {C::reload, "reload"}, {C::snapshot, "snapshot"},
                                             {C::flush, "flush"}};
  for (const auto& [c, name] : names) CHECK(std::string(pc::command_name(c)) == name);
  CHECK(std::string(pc::command_name(static_cast<C>(99))) == "?");
  CHECK_FALSE(pc::is_mutating(C::version));
  CHECK_FALSE(pc::is_mutating(C::stats));
  CHECK_FALSE(pc::is_mutating(C::policy));
  CHECK_FALSE(pc::is_mutating(C::clients));
  CHECK(pc::is_mutating(C::reload));
  CHECK(pc::is_mutating(C::snapshot));
}

TEST_CASE("control replies: a body that is not an object adds nothing to ok", "[control]") {
  CHECK(pc::ok_reply(nlohmann::json::array({1, 2})) == "{\"ok\":true}\n");
  CHECK(pc::ok_reply(nullptr) == "{\"ok\":true}\n");
  CHECK(pc::ok_reply({{"a", 1}}) == "{\"a\":1,\"ok\":true}\n");
  CHECK(pc::error_reply("") == "{\"error\":\"\",\"ok\":false}\n");
}

TEST_CASE("control commands: what the daemon did not wire up answers 'not available'", "[control]") {
  pd::PolicyHolder holder(pd::MarkingPolicy::build(pd::PolicyConfig{}));
  pd::DaemonStats stats;
  std::set<std::shared_ptr<pd::ClientConnection>> none;
  const pc::ControlState bare{stats, holder, none, 1000, std::chrono::steady_clock::now(), {}, {}, {}};
  const auto reply = [&](pc::Command c, pc::DeferredReply d = {}) {
    return nlohmann::json::parse(pc::handle_request(ctlrep_request(c, 3), {1, 0}, bare, std::move(d)));
  };
  CHECK(reply(pc::Command::reload)["error"] == "reload: not available");
  CHECK(reply(pc::Command::snapshot)["error"] == "snapshot: not available");
  CHECK(reply(pc::Command::flush, [](std::string) {})["error"] == "flush: not available");
  const auto version = reply(pc::Command::version);
  CHECK(version["ok"] == true);
  CHECK(version["version"] == PREROLL_VERSION);
  // The daemon's own uid is privileged too; the message names it.
  const auto denied =
      nlohmann::json::parse(pc::handle_request(ctlrep_request(pc::Command::snapshot, 3), {1, 77}, bare));
  CHECK(denied["error"] == "snapshot: permission denied (only root and uid 1000 may)");
  CHECK(pc::privileged({1, 1000}, 1000));
  CHECK(pc::privileged({1, 0}, 1000));
  CHECK_FALSE(pc::privileged({1, 999}, 1000));
  // An unknown command number that slipped through.
  CHECK(nlohmann::json::parse(pc::handle_request(ctlrep_request(static_cast<pc::Command>(42)), {1, 0},
                                                 bare))["error"] == "unhandled command");
}

TEST_CASE("control commands: a flush of one pid answers with that pid, stats in Prometheus text", "[control]") {
  pd::PolicyConfig cfg;
  cfg.triggers = {{"boom", pd::PatternKind::literal}};
  pd::PolicyHolder holder(pd::MarkingPolicy::build(cfg));
  holder.load()->stats().add_hits(0, 4);
  pd::DaemonStats stats;
  pd::DaemonStats::add(stats.windows_persisted, 2);
  std::set<std::shared_ptr<pd::ClientConnection>> none;
  std::uint32_t asked = 0;
  const pc::ControlState state{stats,
                               holder,
                               none,
                               1000,
                               std::chrono::steady_clock::now(),
                               {},
                               {},
                               [&](std::uint32_t pid, std::function<void(nlohmann::json)> done) {
                                 asked = pid;
                                 done({{"clients", 1}, {"windows_written", 0}});
                                 return true;
                               }};
  std::string later;
  CHECK(pc::handle_request(ctlrep_request(pc::Command::flush, 321), {1, 1000}, state, [&](std::string l) {
          later = std::move(l);
        }).empty());
  CHECK(asked == 321);
  const auto j = nlohmann::json::parse(later);
  CHECK(j["pid"] == 321);
  CHECK(j["status"] == "flushed");
  CHECK(j["clients"] == 1);

  pc::Request prom = ctlrep_request(pc::Command::stats);
  prom.prometheus = true;
  const auto text = nlohmann::json::parse(pc::handle_request(prom, {1, 5}, state))["prometheus"].get<std::string>();
  CHECK_THAT(text, Catch::Contains("\npreroll_windows_persisted_total 2\n"));
  CHECK_THAT(text, Catch::Contains("preroll_pattern_hits_total{id=\"0\",pattern=\"boom\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE preroll_decision_latency_seconds summary\n"));
  CHECK_THAT(text, Catch::Contains("\npreroll_decision_latency_seconds_count 0\n"));
  CHECK_THAT(text, !Catch::Contains("p50_us"));  // JSON-only values stay out
  CHECK_THAT(text, !Catch::Contains("marking_ns_per_event"));
  const auto st = nlohmann::json::parse(pc::handle_request(ctlrep_request(pc::Command::stats), {1, 5}, state));
  CHECK(st["all_users"] == false);
  CHECK(st["windows_persisted"] == 2);
  CHECK(st["patterns"][0]["hits"] == 4);
  CHECK(st["patterns"][0]["last"].is_null());
  CHECK(st["last_marked"].is_null());
}

TEST_CASE("control commands: the policy shows hits only for the patterns it has", "[control]") {
  pd::PolicyConfig cfg;
  cfg.triggers = {{"one", pd::PatternKind::literal}, {"two", pd::PatternKind::literal}};
  const auto policy = pd::MarkingPolicy::build(cfg);
  policy->stats().add_hits(1, 9);
  const auto j = pc::policy_json(*policy);
  REQUIRE(j["patterns"].size() == 2);
  CHECK(j["patterns"][0]["hits"] == 0);
  CHECK(j["patterns"][1]["hits"] == 9);
  CHECK(j["patterns"][1]["last"].is_null());
  CHECK(j["warnings"].empty());
  // Without patterns: no hits anywhere, the warnings still there.
  const auto empty = pc::policy_json(*pd::MarkingPolicy::build(pd::PolicyConfig{}));
  CHECK(empty["warnings"].is_array());
  CHECK(empty.dump().find("\"hits\"") == std::string::npos);
}

TEST_CASE("metrics: numbers as Prometheus writes them, help escaped, empty families", "[control][metrics]") {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<pc::Metric> m;
  m.push_back({"odd",
               "",
               "gauge",
               "Back\\slash\nnew line.",
               {{{}, std::nan("")}, {{}, inf}, {{}, -inf}, {{}, 0.5}, {{}, -7}, {{}, 1e20}, {{}, 12345678901.0}}});
  m.push_back({"none_gauge", "", "gauge", "No samples.", {}});
  m.push_back({"none_counter_total", "", "counter", "No samples either.", {}});
  m.push_back({"multi", "", "gauge", "Two labels.", {{{{"a", "1"}, {"b", "x"}}, 3}}});
  CHECK(pc::to_prometheus(m) ==
        "# HELP preroll_odd Back\\\\slash\\nnew line.\n# TYPE preroll_odd gauge\n"
        "preroll_odd NaN\npreroll_odd +Inf\npreroll_odd -Inf\npreroll_odd 0.5\npreroll_odd -7\n"
        "preroll_odd 1e+20\npreroll_odd 12345678901\n"
        "# HELP preroll_none_counter_total No samples either.\n# TYPE preroll_none_counter_total counter\n"
        "# HELP preroll_multi Two labels.\n# TYPE preroll_multi gauge\npreroll_multi{a=\"1\",b=\"x\"} 3\n");
  // A summary's _sum and _count follow it; other typeless values are JSON only.
  std::vector<pc::Metric> s;
  s.push_back({"lat", "", "summary", "Latency.", {{{{"quantile", "0.5"}}, 0.25}}});
  s.push_back({"lat_sum", "", "", "", {{{}, 1.5}}});
  s.push_back({"lat_count", "", "", "", {{{}, 6}}});
  s.push_back({"latency_p50_us", "latency_p50_us", "", "", {{{}, 250000}}});  // "lat" but not "lat_"
  s.push_back({"other", "other", "", "", {{{}, 1}}});
  CHECK(pc::to_prometheus(s) ==
        "# HELP preroll_lat Latency.\n# TYPE preroll_lat summary\npreroll_lat{quantile=\"0.5\"} 0.25\n"
        "preroll_lat_sum 1.5\npreroll_lat_count 6\n");
}

TEST_CASE("metrics: the stats JSON writes integers, fractions, negatives and labelled families", "[control][metrics]") {
  std::vector<pc::Metric> m;
  m.push_back({"a_total", "a", "counter", "", {{{}, 3}}});
  pc::Metric frac{"f", "f", "gauge", "", {{{}, 2}}};
  frac.real = true;
  m.push_back(frac);
  m.push_back({"neg", "neg", "gauge", "", {{{}, -2.5}}});
  m.push_back({"fam_total", "fam", "counter", "", {{{{"kind", "x"}}, 1}, {{{"kind", "y"}}, 2}}});
  m.push_back({"empty", "empty", "gauge", "", {}});
  m.push_back({"prom_only", "", "gauge", "", {{{}, 1}}});
  pd::DaemonStats stats;
  const auto policy = pd::MarkingPolicy::build(pd::PolicyConfig{});
  const auto j = pc::to_stats_json(m, stats, *policy, {});
  CHECK(j["a"].is_number_unsigned());
  CHECK(j["a"] == 3);
  CHECK(j["f"].is_number_float());
  CHECK(j["f"] == 2.0);
  CHECK(j["neg"] == -2.5);
  CHECK(j["fam"] == nlohmann::json({{"x", 1}, {"y", 2}}));
  CHECK_FALSE(j.contains("empty"));
  CHECK_FALSE(j.contains("prom_only"));
  CHECK(j["patterns"].empty());
  CHECK(j["clients"].empty());
  CHECK(j["last_marked"].is_null());
}

TEST_CASE("metrics: the last marked event names its pattern only when the policy has it", "[control][metrics]") {
  pd::PolicyConfig cfg;
  cfg.triggers = {{"disk full", pd::PatternKind::literal}};
  const auto policy = pd::MarkingPolicy::build(cfg);
  policy->stats().set_last(0, {0, 8, ""});  // a pid alone is a match
  pd::DaemonStats stats;
  const auto with = [&](std::int32_t pattern_id) {
    stats.set_last_marked({5'000'000'000, 99, pattern_id, "disk full on /var"});
    return pc::to_stats_json(pc::collect_metrics(stats, *policy, 1.0, {}), stats, *policy, {});
  };
  auto j = with(0);
  CHECK(j["last_marked"]["pattern"] == "disk full");
  CHECK(j["last_marked"]["pattern_id"] == 0);
  CHECK(j["last_marked"]["pid"] == 99);
  CHECK(j["last_marked"]["excerpt"] == "disk full on /var");
  CHECK(j["patterns"][0]["last"]["pid"] == 8);
  CHECK(with(-1)["last_marked"]["pattern"].is_null());  // marked by level or by the client
  CHECK(with(1)["last_marked"]["pattern"].is_null());   // a pattern of an older policy
  const auto metrics = pc::collect_metrics(stats, *policy, 2.5, {});
  CHECK(ctlrep_metric(metrics, "last_marked_event_timestamp_seconds").samples[0].value == 5.0);
  CHECK(ctlrep_metric(metrics, "uptime_seconds").samples[0].value == 2.5);
  CHECK(ctlrep_metric(metrics, "pattern_fallbacks").samples[0].value == 0);
}

TEST_CASE("metrics: per-client families and the clients' objects", "[control][metrics]") {
  pd::DaemonStats stats;
  pd::DaemonStats::add(stats.bytes_seen, 400);
  pd::DaemonStats::add(stats.bytes_persisted, 100);
  pd::DaemonStats::add(stats.windows_persisted, 4);
  pd::DaemonStats::add(stats.events_persisted, 10);
  pd::DaemonStats::add(stats.window_duration_ns_total, 2'000'000'000);
  pd::DaemonStats::add(stats.file_bytes_written, 30);
  pd::DaemonStats::add(stats.event_bytes_raw, 120);
  pd::DaemonStats one_client;
  pd::DaemonStats::add(one_client.windows_persisted, 3);
  pd::DaemonStats::add(one_client.events_marked, 6);
  pc::ClientView view;
  view.pid = 4242;
  view.uid = 1000;
  view.process_name = "svc \"a\"";
  view.session = 17;
  view.windows = &one_client;
  view.capture.events_written = 50;
  view.capture.events_overwritten = 1;
  view.capture.events_dropped_nested = 2;
  view.capture.events_dropped_no_lane = 3;
  view.file = "/out/svc.atf";
  view.file_bytes = 777;
  const auto policy = pd::MarkingPolicy::build(pd::PolicyConfig{});
  const auto metrics = pc::collect_metrics(stats, *policy, 0, {view});
  CHECK(ctlrep_metric(metrics, "storage_ratio").samples[0].value == Approx(0.25));
  CHECK(ctlrep_metric(metrics, "window_duration_seconds_avg").samples[0].value == Approx(0.5));
  CHECK(ctlrep_metric(metrics, "events_per_window_avg").samples[0].value == Approx(2.5));
  CHECK(ctlrep_metric(metrics, "compression_ratio").samples[0].value == Approx(0.25));
  CHECK(ctlrep_metric(metrics, "marking_ns_per_event").samples[0].value == 0);  // no events: not a division by 0
  const auto& lost = ctlrep_metric(metrics, "client_events_lost_total");
  REQUIRE(lost.samples.size() == 1);
  CHECK(lost.samples[0].value == 6);
  CHECK(lost.samples[0].labels ==
        std::vector<std::pair<std::string, std::string>>{{"pid", "4242"}, {"process", "svc \"a\""}});
  const auto text = pc::to_prometheus(metrics);
  CHECK_THAT(text, Catch::Contains("preroll_client_file_bytes_total{pid=\"4242\",process=\"svc \\\"a\\\"\"} 777\n"));
  CHECK_THAT(text, Catch::Contains("preroll_client_events_marked_total{pid=\"4242\",process=\"svc \\\"a\\\"\"} 6\n"));
  const auto j = pc::to_stats_json(metrics, stats, *policy, {view});
  REQUIRE(j["clients"].size() == 1);
  const auto& c = j["clients"][0];
  CHECK(c["pid"] == 4242);
  CHECK(c["session"] == 17);
  CHECK(c["events_lost"] == nlohmann::json({{"overwritten", 1}, {"nested", 2}, {"no_lane", 3}}));
  CHECK(c["windows_persisted"] == 3);
  CHECK(c["events_marked"] == 6);
  CHECK(c["file"] == "/out/svc.atf");
  CHECK(c["file_bytes"] == 777);
  CHECK(j["storage_ratio"] == 0.25);
  CHECK(j["connections_refused"] == nlohmann::json({{"max_clients", 0}, {"per_user", 0}, {"quarantined", 0}}));
  CHECK(j.contains("windows_persisted_by_reason"));
  CHECK_FALSE(j.contains("decision_latency_seconds"));
}
