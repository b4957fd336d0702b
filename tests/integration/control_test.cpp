// The control socket and prerollctl against a real prerolld: policy with a
// regex fallback, stats moving with load, attached clients, no daemon, and
// malformed, oversized and idle connections that must not hurt the daemon.
#include <poll.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"
#include "preroll/shm/paths.hpp"

using namespace std::chrono_literals;
using preroll::test::DaemonFixture;
using preroll::test::ctl_json;
using preroll::test::CtlResult;
using preroll::test::prerollctl;
using preroll::test::exit_code;
using preroll::test::Process;
using preroll::test::TempDir;
using preroll::test::read_all;
using preroll::test::wait_for;

namespace {

// A raw connection to the control socket.
class RawConn {
 public:
  explicit RawConn(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConn() { ::close(fd_); }
  void send_all(const std::string& s) const {
    std::size_t sent = 0;
    while (sent < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + sent, s.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // the daemon may close an oversized request early
      sent += static_cast<std::size_t>(n);
    }
  }
  // Everything until EOF or `timeout`; `eof` says whether the daemon closed.
  std::string read_until_eof(std::chrono::milliseconds timeout, bool& eof) const {
    std::string got;
    eof = false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("prerollctl policy shows an invalid regex's literal fallback, in text and JSON") {
  DaemonFixture d({"--trigger", "re:bad(", "--trigger", "ok"});
  const auto r = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "policy"});
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.status == 0);
  // The line of pattern 0 names the text and the fallback.
  const auto line0 = r.out.find("   0  literal  'bad('");
  REQUIRE(line0 != std::string::npos);
  const auto eol = r.out.find('\n', line0);
  CHECK(r.out.substr(line0, eol - line0).find("invalid regex, matched as literal text") != std::string::npos);
  CHECK(r.out.find("   1  literal  'ok'") != std::string::npos);

  const auto j = ctl_json(d, "policy");
  const auto& patterns = j["policy"]["patterns"];
  REQUIRE(patterns.size() == 2);
  CHECK(patterns[0]["text"] == "bad(");
  CHECK(patterns[0]["kind"] == "literal");
  CHECK(patterns[0]["fallback"].get<std::string>().find("parenthesis") != std::string::npos);
  CHECK_FALSE(patterns[1].contains("fallback"));
  CHECK(patterns[0].contains("hits"));
  CHECK(j["policy"]["warnings"].size() == 1);

  CHECK(ctl_json(d, "stats")["pattern_fallbacks"] == 1);
  d.stop();
  CHECK_FALSE(std::filesystem::exists(preroll::shm::control_socket_path(d.socket.string())));
}

TEST_CASE("prerollctl stats: the counters move when a client runs") {
  DaemonFixture d;
  const auto before = ctl_json(d, "stats");
  for (const char* key : {"windows_persisted", "windows_seen", "events_seen", "events_marked", "bytes_seen",
                          "clients_attached_total", "uptime_s", "storage_ratio"})
    CHECK(before.contains(key));
  CHECK(before["events_seen"] == 0);
  const auto summary = d.run_client({PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--message-size", "48",
                                     "--mark-every", "10000", "--rate", "200000"});
  nlohmann::json after;
  const bool moved = wait_for(
      [&] {
        after = ctl_json(d, "stats");
        return after["events_seen"].get<std::uint64_t>() >= summary["events"].get<std::uint64_t>() &&
               after["windows_persisted"].get<std::uint64_t>() > 0 && after["clients_current"] == 0;
      },
      30s);
  INFO("stats: " << after.dump() << "\ngen: " << summary.dump());
  CHECK(moved);
  CHECK(after["clients_attached_total"] == 1);
  CHECK(after["events_marked"].get<std::uint64_t>() >= 2);
  CHECK(after["storage_ratio"].get<double>() > 0.0);
  CHECK(after["uptime_s"].get<double>() >= before["uptime_s"].get<double>());
  const auto text = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "stats"});
  CHECK(text.status == 0);
  CHECK(text.out.find("windows_persisted") != std::string::npos);
  d.stop();
}

TEST_CASE("prerollctl clients lists an attached client process") {
  DaemonFixture d;
  const auto stop = d.dir.path() / "stop";
  auto client = d.spawn_client({SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  REQUIRE(wait_for([&] { return client->out().find("marked") != std::string::npos || !client->running(); }, 60s));
  REQUIRE(client->running());
  nlohmann::json j;
  const bool listed = wait_for(
      [&] {
        j = ctl_json(d, "clients");
        for (const auto& c : j["clients"])
          if (c["pid"] == client->pid()) return true;
        return false;
      },
      30s);
  INFO("clients: " << j.dump());
  CHECK(listed);
  for (const auto& c : j["clients"])
    if (c["pid"] == client->pid()) {
      CHECK(c["uid"] == ::getuid());
      CHECK(c["process_name"].get<std::string>().find("scenario") != std::string::npos);
    }
  const auto text = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "clients"});
  CHECK(text.status == 0);
  CHECK(text.out.find(std::to_string(client->pid())) != std::string::npos);
  std::ofstream(stop).put('x');
  REQUIRE(client->wait(60s).has_value());
  d.stop();
}

TEST_CASE("prerollctl with no daemon exits 2 and names the socket it tried") {
  TempDir dir;
  const auto sock = dir.path() / "nobody.sock";
  const auto r = prerollctl(dir.path(), {"--socket", sock.string(), "stats"});
  INFO("stderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(r.err.find(preroll::shm::control_socket_path(sock.string())) != std::string::npos);
  CHECK(prerollctl(dir.path(), {"--socket", sock.string(), "frobnicate"}).status == 2);
  CHECK(prerollctl(dir.path(), {}).status == 2);
}

TEST_CASE("control socket: malformed, oversized and idle requests get an error or a close, and the daemon serves on") {
  DaemonFixture d;
  const std::string path = preroll::shm::control_socket_path(d.socket.string());
  bool eof = false;
  {
    RawConn c(path);
    c.send_all("this is not json\n");
    const auto got = c.read_until_eof(10s, eof);
    INFO("reply: " << got);
    CHECK(eof);
    const auto j = nlohmann::json::parse(got.substr(0, got.find('\n')));
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("malformed JSON") != std::string::npos);
  }
  {
    RawConn c(path);
    c.send_all(std::string(10000, '{'));
    const auto got = c.read_until_eof(10s, eof);
    INFO("reply: " << got);
    CHECK(eof);
    const auto j = nlohmann::json::parse(got.substr(0, got.find('\n')));
    CHECK(j["ok"] == false);
    CHECK(j["error"].get<std::string>().find("longer than 4096") != std::string::npos);
  }
  {
    RawConn c(path);
    c.send_all("{\"cmd\":\"unknown-thing\"}\n");
    const auto got = c.read_until_eof(10s, eof);
    CHECK(nlohmann::json::parse(got.substr(0, got.find('\n')))["ok"] == false);
  }
  {
    // Two requests on one connection are both answered.
    RawConn c(path);
    c.send_all("{\"cmd\":\"version\"}\n{\"cmd\":\"version\"}\n");
    std::string got;
    REQUIRE(wait_for([&] {
      bool e = false;
      got += c.read_until_eof(50ms, e);
      return std::count(got.begin(), got.end(), '\n') >= 2 || e;
    }, 10s));
    CHECK(std::count(got.begin(), got.end(), '\n') == 2);
  }
  {
    // Silent (and half-sent) connections are closed after the idle timeout.
    RawConn silent(path);
    RawConn partial(path);
    partial.send_all("{\"cmd\":");
    const auto t0 = std::chrono::steady_clock::now();
    silent.read_until_eof(20s, eof);
    CHECK(eof);
    CHECK(std::chrono::steady_clock::now() - t0 >= 4s);
    partial.read_until_eof(5s, eof);
    CHECK(eof);
  }
  const auto v = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "version"});
  INFO("stderr: " << v.err);
  CHECK(v.status == 0);
  CHECK(v.out.find("prerolld ") == 0);
  const auto j = ctl_json(d, "version");
  CHECK(j["version"].get<std::string>().empty() == false);
  d.stop();
}

TEST_CASE("prerollctl reload by the daemon's own user starts a reload") {
  DaemonFixture d({"--trigger", "ok"});
  const auto j = ctl_json(d, "reload");
  CHECK(j["status"] == "reload started");
  CHECK(wait_for([&] { return d.log().find("reload: new policy in force") != std::string::npos; }, 30s));
  d.stop();
}

TEST_CASE("prerollctl snapshot writes a live client's current windows now, and only once") {
  // No flush-after, no level trigger: the client's mark would stay in its
  // ring until it exits; the snapshot writes it while the client lives.
  DaemonFixture d({"--flush-after", "0"});
  const auto stop = d.dir.path() / "stop";
  auto client = d.spawn_client({SCENARIO_CLIENT_PATH, "mark-and-idle", stop.string()});
  REQUIRE(wait_for([&] { return client->out().find("marked") != std::string::npos; }, 30s));
  CHECK(d.files().empty());
  Process ctl({PREROLLCTL_PATH, "--socket", d.socket.string(), "snapshot", "--pid", std::to_string(client->pid()),
               "--reason", "test"},
              {}, d.dir.path() / "ctl.out", d.dir.path() / "ctl.err");
  const auto st = ctl.wait(20s);
  REQUIRE(st.has_value());
  INFO(ctl.err());
  CHECK(preroll::test::exit_code(*st) == 0);
  const bool written = wait_for(
      [&] {
        const auto files = d.files();
        return !files.empty() && read_all(files).count_messages_containing("mark-then-idle") == 1;
      },
      20s);
  CHECK(written);
  Process unknown({PREROLLCTL_PATH, "--socket", d.socket.string(), "snapshot", "--pid", "999999"}, {},
                  d.dir.path() / "u.out", d.dir.path() / "u.err");
  const auto ust = unknown.wait(20s);
  REQUIRE(ust.has_value());
  CHECK(preroll::test::exit_code(*ust) == 1);
  CHECK(unknown.err().find("999999") != std::string::npos);
  { std::ofstream(stop) << "stop\n"; }
  REQUIRE(client->wait(30s).has_value());
  d.stop();
  const auto r = read_all(d.files());
  CHECK(r.count_messages_containing("mark-then-idle") == 1);  // not written again at exit
  bool manual = false;
  for (const auto& w : r.windows) manual = manual || w.meta.reason == preroll::atf::KeepReason::manual_snapshot;
  CHECK(manual);
}
