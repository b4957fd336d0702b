// The control socket's request parser and the command replies, without sockets.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "control/control_commands.hpp"
#include "control/control_protocol.hpp"
#include "control/metrics.hpp"
#include "latency_histogram.hpp"

using namespace preroll::daemon;
using namespace preroll::daemon::control;

namespace {
Request request(Command c) {
  Request r;
  r.cmd = c;
  return r;
}

std::string error_of(std::string_view line) {
  const auto r = parse_request(line);
  REQUIRE_FALSE(r.request.has_value());
  REQUIRE_FALSE(r.error.empty());
  return r.error;
}
}  // namespace

TEST_CASE("control request: every known command parses") {
  const std::pair<const char*, Command> cases[] = {{R"({"cmd":"version"})", Command::version},
                                                   {R"({"cmd":"stats"})", Command::stats},
                                                   {R"({"cmd":"policy"})", Command::policy},
                                                   {R"({"cmd":"clients"})", Command::clients},
                                                   {R"({"cmd":"reload"})", Command::reload}};
  for (const auto& [line, cmd] : cases) {
    INFO(line);
    const auto r = parse_request(line);
    REQUIRE(r.request.has_value());
    CHECK(r.request->cmd == cmd);
    CHECK(r.error.empty());
  }
}

TEST_CASE("control request: blanks, a trailing CR and extra members are accepted") {
  const auto r = parse_request("  {\"cmd\" : \"stats\", \"extra\": [1,2]}\r");
  REQUIRE(r.request.has_value());
  CHECK(r.request->cmd == Command::stats);
}

TEST_CASE("control request: malformed shapes give a clear error") {
  CHECK(error_of("").find("empty") != std::string::npos);
  CHECK(error_of("   \r").find("empty") != std::string::npos);
  CHECK(error_of("garbage").find("malformed JSON") != std::string::npos);
  CHECK(error_of(R"({"cmd":"stats")").find("malformed JSON") != std::string::npos);
  CHECK(error_of(R"({"cmd":"stats"} {"cmd":"stats"})").find("malformed JSON") != std::string::npos);
  CHECK(error_of(std::string("{\"cmd\":\"st\xff\xfe\"}")).find("malformed JSON") != std::string::npos);
  CHECK(error_of(std::string("{\"cmd\":\0\"stats\"}", 16)).find("malformed JSON") != std::string::npos);
  CHECK(error_of(R"(["stats"])").find("JSON object") != std::string::npos);
  CHECK(error_of(R"("stats")").find("JSON object") != std::string::npos);
  CHECK(error_of("42").find("JSON object") != std::string::npos);
  CHECK(error_of("null").find("JSON object") != std::string::npos);
  CHECK(error_of(R"({})").find("no \"cmd\"") != std::string::npos);
  CHECK(error_of(R"({"command":"stats"})").find("no \"cmd\"") != std::string::npos);
  CHECK(error_of(R"({"cmd":7})").find("must be a string") != std::string::npos);
  CHECK(error_of(R"({"cmd":null})").find("must be a string") != std::string::npos);
  const auto unknown = error_of(R"({"cmd":"shutdown"})");
  CHECK(unknown.find("unknown command \"shutdown\"") != std::string::npos);
  CHECK(unknown.find("stats") != std::string::npos);  // lists the known ones
  CHECK(error_of(R"({"cmd":"STATS"})").find("unknown command") != std::string::npos);
}

TEST_CASE("control request: deep nesting within the limit is an error, not a crash") {
  const std::string deep = "{\"cmd\":" + std::string(2000, '[') + std::string(2000, ']') + "}";
  REQUIRE(deep.size() <= max_request_bytes);
  CHECK(error_of(deep).find("must be a string") != std::string::npos);
}

TEST_CASE("control request: the size limit is exact") {
  std::string at_limit = R"({"cmd":"stats","pad":")";
  at_limit += std::string(max_request_bytes - at_limit.size() - 2, 'x') + "\"}";
  REQUIRE(at_limit.size() == max_request_bytes);
  CHECK(parse_request(at_limit).request.has_value());
  const std::string over = at_limit + " ";
  CHECK(error_of(over).find("longer than 4096 bytes") != std::string::npos);
}

TEST_CASE("control replies are single JSON lines") {
  const auto ok = ok_reply({{"version", "1.2.3"}});
  REQUIRE(ok.back() == '\n');
  CHECK(ok.find('\n') == ok.size() - 1);
  const auto j = nlohmann::json::parse(ok);
  CHECK(j["ok"] == true);
  CHECK(j["version"] == "1.2.3");
  const auto err = error_reply("bad\nthing \xff");
  CHECK(err.find('\n') == err.size() - 1);
  const auto e = nlohmann::json::parse(err);
  CHECK(e["ok"] == false);
  CHECK(e["error"].get<std::string>().rfind("bad\nthing", 0) == 0);
}

TEST_CASE("control commands: policy and stats show a regex fallback, hits and authorisation") {
  PolicyConfig cfg;
  cfg.triggers = {{"bad(", PatternKind::regex}, {"ok", PatternKind::literal}};
  PolicyHolder holder(MarkingPolicy::build(cfg));
  holder.load()->stats().add_hits(1, 3);
  holder.load()->stats().set_last(1, {123, 42, "all ok"});
  DaemonStats stats;
  DaemonStats::add(stats.windows_persisted, 5);
  DaemonStats::add(stats.bytes_seen, 200);
  DaemonStats::add(stats.bytes_persisted, 50);
  std::set<std::shared_ptr<ClientConnection>> none;
  bool reloaded = false;
  std::uint32_t snapshot_pid = 0;
  const ControlState state{stats,
                           holder,
                           none,
                           1000,
                           std::chrono::steady_clock::now(),
                           [&] { reloaded = true; },
                           [&](std::uint32_t pid) {
                             snapshot_pid = pid;
                             return pid == 42;
                           },
                           {}};

  const auto pol = nlohmann::json::parse(handle_request(request(Command::policy), {1, 1000}, state));
  REQUIRE(pol["ok"] == true);
  const auto& p0 = pol["policy"]["patterns"][0];
  CHECK(p0["kind"] == "literal");
  CHECK(p0.contains("fallback"));
  CHECK(p0["hits"] == 0);
  CHECK(p0["last"].is_null());
  const auto& p1 = pol["policy"]["patterns"][1];
  CHECK_FALSE(p1.contains("fallback"));
  CHECK(p1["hits"] == 3);
  CHECK(p1["last"]["excerpt"] == "all ok");
  CHECK(pol["policy"]["warnings"].size() == 1);

  const auto st = nlohmann::json::parse(handle_request(request(Command::stats), {1, 1000}, state));
  CHECK(st["windows_persisted"] == 5);
  CHECK(st["storage_ratio"].get<double>() == Approx(0.25));
  CHECK(st["pattern_fallbacks"] == 1);
  CHECK(st["patterns"][1]["hits"] == 3);
  CHECK(st.contains("uptime_s"));

  const auto denied = nlohmann::json::parse(handle_request(request(Command::reload), {1, 1001}, state));
  CHECK(denied["ok"] == false);
  CHECK(denied["error"].get<std::string>().find("permission denied") != std::string::npos);
  CHECK_FALSE(reloaded);
  const auto by_root = nlohmann::json::parse(handle_request(request(Command::reload), {1, 0}, state));
  CHECK(by_root["ok"] == true);
  CHECK(by_root["status"] == "reload started");
  CHECK(reloaded);

  const auto clients = nlohmann::json::parse(handle_request(request(Command::clients), {1, 1001}, state));
  CHECK(clients["clients"].empty());
  CHECK(clients["all_users"] == false);

  Request snap = request(Command::snapshot);
  snap.pid = 42;
  CHECK(nlohmann::json::parse(handle_request(snap, {1, 1001}, state))["ok"] == false);  // not privileged
  CHECK(snapshot_pid == 0);
  CHECK(nlohmann::json::parse(handle_request(snap, {1, 1000}, state))["ok"] == true);
  CHECK(snapshot_pid == 42);
  snap.pid = 7;
  const auto missing = nlohmann::json::parse(handle_request(snap, {1, 0}, state));
  CHECK(missing["ok"] == false);
  CHECK(missing["error"].get<std::string>().find("pid 7") != std::string::npos);
}

TEST_CASE("control request: snapshot needs a pid and takes an optional reason") {
  auto r = parse_request(R"({"cmd":"snapshot","pid":1234,"reason":"on-call look"})");
  REQUIRE(r.request.has_value());
  CHECK(r.request->pid == 1234);
  CHECK(r.request->reason == "on-call look");
  CHECK_FALSE(parse_request(R"({"cmd":"snapshot"})").request.has_value());
  CHECK_FALSE(parse_request(R"({"cmd":"snapshot","pid":-1})").request.has_value());
  CHECK_FALSE(parse_request(R"({"cmd":"snapshot","pid":"12"})").request.has_value());
  CHECK_FALSE(parse_request(R"({"cmd":"snapshot","pid":5,"reason":3})").request.has_value());
}

TEST_CASE("control request: flush takes an optional pid, stats an optional format") {
  auto all = parse_request(R"({"cmd":"flush"})");
  REQUIRE(all.request.has_value());
  CHECK(all.request->cmd == Command::flush);
  CHECK(all.request->pid == 0);
  CHECK(is_mutating(Command::flush));
  auto one = parse_request(R"({"cmd":"flush","pid":77})");
  REQUIRE(one.request.has_value());
  CHECK(one.request->pid == 77);
  CHECK_FALSE(parse_request(R"({"cmd":"flush","pid":0})").request.has_value());
  CHECK_FALSE(parse_request(R"({"cmd":"flush","pid":"77"})").request.has_value());

  auto prom = parse_request(R"({"cmd":"stats","format":"prometheus"})");
  REQUIRE(prom.request.has_value());
  CHECK(prom.request->prometheus);
  CHECK_FALSE(parse_request(R"({"cmd":"stats"})").request->prometheus);
  CHECK_FALSE(parse_request(R"({"cmd":"stats","format":"xml"})").request.has_value());
}

TEST_CASE("control commands: flush answers later through the deferred reply, or refuses") {
  PolicyHolder holder(MarkingPolicy::build(PolicyConfig{}));
  DaemonStats stats;
  std::set<std::shared_ptr<ClientConnection>> none;
  std::function<void(nlohmann::json)> pending;
  ControlState state{stats, holder, none, 1000, std::chrono::steady_clock::now(), {}, {},
                     [&](std::uint32_t pid, std::function<void(nlohmann::json)> done) {
                       if (pid == 5) return false;
                       pending = std::move(done);
                       return true;
                     }};
  std::string later;
  const auto reply = handle_request(request(Command::flush), {1, 0}, state, [&](std::string l) { later = l; });
  CHECK(reply.empty());  // deferred
  REQUIRE(pending);
  pending({{"clients", 2}, {"windows_written", 3}});
  const auto j = nlohmann::json::parse(later);
  CHECK(j["ok"] == true);
  CHECK(j["windows_written"] == 3);
  CHECK(j["status"] == "flushed");

  Request five = request(Command::flush);
  five.pid = 5;
  const auto missing = nlohmann::json::parse(handle_request(five, {1, 0}, state, [](std::string) {}));
  CHECK(missing["ok"] == false);
  CHECK_FALSE(nlohmann::json::parse(handle_request(request(Command::flush), {1, 0}, state))["ok"].get<bool>());
  CHECK_FALSE(nlohmann::json::parse(handle_request(request(Command::flush), {1, 1001}, state,
                                                   [](std::string) {}))["ok"].get<bool>());  // not privileged
}

TEST_CASE("metrics: histogram quantiles and the Prometheus rendering of labels") {
  LatencyHistogram h;
  for (int i = 0; i < 99; ++i) h.record(10'000);  // 10 µs
  h.record(5'000'000);                             // 5 ms
  CHECK(h.count() == 100);
  CHECK(h.quantile_ns(0.5) >= 10'000);
  CHECK(h.quantile_ns(0.5) <= 12'000);
  CHECK(h.quantile_ns(1.0) >= 5'000'000);
  CHECK(h.quantile_ns(1.0) <= 6'000'000);
  for (int b = 1; b < LatencyHistogram::kBuckets - 1; ++b) {
    CHECK(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound_ns(b) - 1) == b);
    CHECK(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound_ns(b)) == b + 1);
  }
  std::vector<control::Metric> m = {
      {"x_total", "x", "counter", "An x.", {{{{"pattern", "a\"b\\c\nd"}}, 3}}}};
  CHECK(control::to_prometheus(m) ==
        "# HELP preroll_x_total An x.\n# TYPE preroll_x_total counter\npreroll_x_total{pattern=\"a\\\"b\\\\c\\nd\"} 3\n");
}
