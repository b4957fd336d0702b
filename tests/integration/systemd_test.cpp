// prerolld under systemd, without systemd: the test plays the service
// manager. Type=notify through a NOTIFY_SOCKET the test binds (READY,
// STATUS, WATCHDOG, RELOADING/READY, STOPPING), and socket activation with
// listening sockets the test creates and passes as descriptors 3 and 4
// (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID set by a shell that then execs the
// daemon, so the pid is the daemon's).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>

#include "daemon_fixture.hpp"
#include "notify_listener.hpp"
#include "prerollctl_runner.hpp"

using namespace std::chrono_literals;
using preroll::test::ctl_json;
using preroll::test::DaemonFixture;
using preroll::test::exit_code;
using preroll::test::NotifyListener;
using preroll::test::Process;
using preroll::test::prerollctl;
using preroll::test::read_all;
using preroll::test::TempDir;

namespace {

// A listening AF_UNIX socket at `path`, as a .socket unit makes it.
int listening_socket(const std::filesystem::path& path, int type) {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, SOMAXCONN) == 0);
  return fd;
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool socket = false;
  bool operator==(const FileId&) const = default;
};
FileId file_id(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, S_ISSOCK(st.st_mode)};
}

// prerolld with `fds` as descriptors 3.. and LISTEN_PID = its own pid.
std::unique_ptr<Process> start_activated(const TempDir& dir, const std::string& socket, const std::vector<int>& fds,
                                         const std::string& names, const std::vector<std::string>& env,
                                         const std::string& tag) {
  const std::string out = (dir.path() / "out").string();
  std::vector<std::string> argv = {"/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\"", PREROLLD_PATH, "--socket",
                                   socket, "--output-dir", out, "--log-level", "debug"};
  std::vector<std::string> e = {"LISTEN_FDS=" + std::to_string(fds.size())};
  if (!names.empty()) e.push_back("LISTEN_FDNAMES=" + names);
  e.insert(e.end(), env.begin(), env.end());
  return std::make_unique<Process>(argv, e, dir.path() / ("prerolld." + tag + ".out"),
                                   dir.path() / ("prerolld." + tag + ".err"), fds);
}

void require_clean_exit(Process& p) {
  p.signal(SIGTERM);
  const auto st = p.wait(30s);
  INFO("prerolld stderr:\n" << p.err());
  REQUIRE(st.has_value());
  CHECK(exit_code(*st) == 0);
}

}  // namespace

TEST_CASE("Type=notify: READY with STATUS, watchdog pings, RELOADING then READY around reloads, STOPPING at SIGTERM") {
  DaemonFixture d({}, DaemonFixture::Deferred{});
  NotifyListener n(d.dir.path() / "notify.sock");
  // WATCHDOG_PID is left unset: sd_watchdog_enabled then takes WATCHDOG_USEC as ours.
  d.daemon_env = {n.env(), "WATCHDOG_USEC=200000"};
  d.start();

  const auto ready = n.wait_for("READY=1", 10s);
  INFO("notifications:\n" << n.transcript() << "prerolld stderr:\n" << d.log());
  REQUIRE(ready != NotifyListener::npos);
  CHECK(n.messages()[ready].find("STATUS=0 clients attached; windows: 0 persisted") != std::string::npos);
  CHECK(n.find("STOPPING=1") == NotifyListener::npos);

  // Pinged every 100 ms (half of WATCHDOG_USEC) while the daemon is idle.
  REQUIRE(n.wait_until([&] { return n.count("WATCHDOG=1", ready) >= 3; }, 10s));
  CHECK(d.log().find("systemd watchdog: pinging every 100 ms") != std::string::npos);

  SECTION("prerollctl reload") {
    const auto from = n.messages().size();
    ctl_json(d, "reload");
    const auto reloading = n.wait_for("RELOADING=1", 10s, from);
    REQUIRE(reloading != NotifyListener::npos);
    CHECK(NotifyListener::has(n.messages()[reloading], "MONOTONIC_USEC="));
    const auto again = n.wait_for("READY=1", 10s, reloading + 1);
    REQUIRE(again != NotifyListener::npos);
    CHECK(NotifyListener::has(n.messages()[again], "STATUS="));
    CHECK(n.count("RELOADING=1", from) == 1);
  }
  SECTION("SIGHUP") {
    const auto from = n.messages().size();
    d.signal(SIGHUP);
    const auto reloading = n.wait_for("RELOADING=1", 10s, from);
    REQUIRE(reloading != NotifyListener::npos);
    REQUIRE(n.wait_for("READY=1", 10s, reloading + 1) != NotifyListener::npos);
  }

  // The daemon keeps pinging after a reload.
  const auto after_reload = n.messages().size();
  REQUIRE(n.wait_until([&] { return n.count("WATCHDOG=1", after_reload) >= 2; }, 10s));

  d.stop();
  n.receive_pending();
  const auto stopping = n.find("STOPPING=1");
  REQUIRE(stopping != NotifyListener::npos);
  CHECK(n.find("READY=1", stopping) == NotifyListener::npos);
}

TEST_CASE("Without WATCHDOG_USEC the daemon notifies READY but never pings the watchdog") {
  DaemonFixture d({}, DaemonFixture::Deferred{});
  NotifyListener n(d.dir.path() / "notify.sock");
  d.daemon_env = {n.env()};
  d.start();
  REQUIRE(n.wait_for("READY=1", 10s) != NotifyListener::npos);
  d.stop();
  n.receive_pending();
  INFO("notifications:\n" << n.transcript());
  CHECK(n.find("STOPPING=1") != NotifyListener::npos);
  CHECK(n.count("WATCHDOG=1") == 0);
}

TEST_CASE("Socket activation: prerolld serves the sockets it is passed, and a restart serves them again") {
  TempDir dir;
  const auto reg = dir.path() / "prerolld.sock";
  const auto ctl = dir.path() / "prerolld.ctl";
  const int reg_fd = listening_socket(reg, SOCK_SEQPACKET);
  const int ctl_fd = listening_socket(ctl, SOCK_STREAM);
  const FileId reg_id = file_id(reg), ctl_id = file_id(ctl);
  NotifyListener n(dir.path() / "notify.sock");

  for (int round = 1; round <= 2; ++round) {
    INFO("daemon start " << round);
    const auto from = n.messages().size();
    auto d = start_activated(dir, reg.string(), {reg_fd, ctl_fd}, "registration:control", {n.env()},
                             std::to_string(round));
    // The sockets accept (into their backlog) before the daemon runs: READY
    // is the sign it serves them.
    n.wait_until([&] { return n.find("READY=1", from) != NotifyListener::npos || !d->running(); }, 10s);
    INFO("prerolld stderr:\n" << d->err());
    REQUIRE(n.find("READY=1", from) != NotifyListener::npos);
    CHECK(d->err().find("socket activation: registration socket " + reg.string() + " from systemd (fd 3)") !=
          std::string::npos);
    CHECK(d->err().find("socket activation: control socket " + ctl.string() + " from systemd (fd 4)") !=
          std::string::npos);

    // A real client registers through the passed socket and its marked windows are written.
    Process client({PREROLL_GEN_PATH, "--threads", "1", "--events", "20000", "--message-size", "48", "--mark-every",
                    "10000", "--rate", "200000"},
                   {"PREROLL_SOCKET=" + reg.string(), "PREROLL_RINGS_PER_LANE=64"},
                   dir.path() / ("client." + std::to_string(round) + ".out"),
                   dir.path() / ("client." + std::to_string(round) + ".err"));
    const auto st = client.wait(120s);
    INFO("client stderr:\n" << client.err());
    REQUIRE(st.has_value());
    REQUIRE(exit_code(*st) == 0);

    // prerollctl answers on the passed control socket.
    const auto r = prerollctl(dir.path(), {"--socket", reg.string(), "--json", "stats"});
    INFO("prerollctl: " << r.out << r.err);
    REQUIRE(r.status == 0);
    const auto stats = nlohmann::json::parse(r.out);
    CHECK(stats["clients_attached_total"].get<std::uint64_t>() == 1);

    require_clean_exit(*d);
    // The files are systemd's: still there, the very same sockets.
    CHECK(file_id(reg) == reg_id);
    CHECK(file_id(ctl) == ctl_id);
    CHECK(reg_id.socket);
    // And nothing else is left in the directory (no helper links).
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      CHECK((e.is_socket() == (e.path() == reg || e.path() == ctl || e.path().filename() == "notify.sock")));
  }

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "out"))
    if (e.path().extension() == ".atf") files.push_back(e.path());
  const auto back = read_all(files);
  CHECK(files.size() == 2);
  CHECK(back.count_messages_containing("ERROR") >= 2);  // the marked events of both clients
  ::close(reg_fd);
  ::close(ctl_fd);
}

TEST_CASE("Socket activation of the registration socket alone: the daemon binds the control socket itself") {
  TempDir dir;
  const auto reg = dir.path() / "prerolld.sock";
  const auto ctl = dir.path() / "prerolld.ctl";
  const int reg_fd = listening_socket(reg, SOCK_SEQPACKET);
  NotifyListener n(dir.path() / "notify.sock");
  // No LISTEN_FDNAMES: matched by type and path.
  auto d = start_activated(dir, reg.string(), {reg_fd}, "", {n.env()}, "1");
  n.wait_until([&] { return n.find("READY=1") != NotifyListener::npos || !d->running(); }, 10s);
  INFO("prerolld stderr:\n" << d->err());
  REQUIRE(n.find("READY=1") != NotifyListener::npos);
  CHECK(d->err().find("socket activation: registration socket " + reg.string() + " from systemd (fd 3)") !=
        std::string::npos);
  const auto r = prerollctl(dir.path(), {"--socket", reg.string(), "--json", "version"});
  CHECK(r.status == 0);
  require_clean_exit(*d);
  CHECK(file_id(reg).socket);                     // systemd's: kept
  CHECK_FALSE(std::filesystem::exists(ctl));      // the daemon's own: removed
  ::close(reg_fd);
}

TEST_CASE("Socket activation with a socket at another path than --socket stops startup with both paths named") {
  TempDir dir;
  const auto elsewhere = dir.path() / "other.sock";
  const auto configured = dir.path() / "prerolld.sock";
  const int fd = listening_socket(elsewhere, SOCK_SEQPACKET);
  auto d = start_activated(dir, configured.string(), {fd}, "registration", {}, "1");
  const auto st = d->wait(30s);
  INFO("prerolld stderr:\n" << d->err());
  REQUIRE(st.has_value());
  CHECK(exit_code(*st) == 1);
  const std::string err = d->err();
  CHECK(err.find("socket activation") != std::string::npos);
  CHECK(err.find(elsewhere.string()) != std::string::npos);
  CHECK(err.find(configured.string()) != std::string::npos);
  CHECK(file_id(elsewhere).socket);                 // not the daemon's to remove
  CHECK_FALSE(std::filesystem::exists(configured));  // and it bound nothing of its own
  ::close(fd);
}
