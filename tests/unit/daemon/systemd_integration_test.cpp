// The systemd glue in-process: STATUS text, the watchdog's liveness rule and
// its pings, the notification sequence, journald priorities, and which
// passed socket is which (daemon/systemd/).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

#include "notify_listener.hpp"
#include "process.hpp"
#include "systemd/journal_log.hpp"
#include "systemd/service_notifier.hpp"
#include "systemd/socket_activation.hpp"

using preroll::daemon::DaemonStats;
namespace sd = preroll::daemon::systemd;
using preroll::test::NotifyListener;
using preroll::test::TempDir;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

int make_socket(const std::filesystem::path& path, int type, bool listen = true) {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (listen) REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

}  // namespace

TEST_CASE("STATUS line: clients, windows, disk usage against the quota, write errors only when there are some") {
  DaemonStats s;
  CHECK(sd::status_line(s) == "0 clients attached; windows: 0 persisted, 0 discarded; disk 0 B (no quota)");
  s.clients_current = 1;
  s.windows_persisted = 12;
  s.windows_discarded = 3400;
  s.disk_usage_bytes = 3 * 1024 * 1024;
  s.disk_quota_bytes = 4ull << 30;
  CHECK(sd::status_line(s) == "1 client attached; windows: 12 persisted, 3400 discarded; disk 3.0 MiB of 4.0 GiB");
  s.write_errors = 2;
  CHECK(sd::status_line(s) ==
        "1 client attached; windows: 12 persisted, 3400 discarded; disk 3.0 MiB of 4.0 GiB, 2 write errors");
}

TEST_CASE("Watchdog liveness: an idle worker or one that moved is alive, one busy on a task for a whole tick is not") {
  CHECK(sd::worker_alive(0, 0));   // idle since the start
  CHECK(sd::worker_alive(4, 4));   // idle, nothing happened
  CHECK(sd::worker_alive(7, 5));   // busy, but on another task than last tick
  CHECK(sd::worker_alive(8, 7));   // finished the task
  CHECK_FALSE(sd::worker_alive(7, 7));  // the same task a whole tick later
}

TEST_CASE("ServiceNotifier without NOTIFY_SOCKET does nothing and arms no timer") {
  ::unsetenv("NOTIFY_SOCKET");
  boost::asio::io_context io;
  DaemonStats stats;
  sd::ServiceNotifier n(io, stats, [] { return std::uint64_t{0}; });
  CHECK_FALSE(n.enabled());
  n.ready();
  n.reloading();
  n.reloaded();
  CHECK(io.run() == 0);  // no work queued
  n.stopping();
}

TEST_CASE("ServiceNotifier: READY with STATUS, one RELOADING per reload, pings only while the worker moves, STOPPING") {
  TempDir dir;
  NotifyListener listener(dir.path() / "notify.sock");
  const ScopedEnv notify("NOTIFY_SOCKET", (dir.path() / "notify.sock").string());
  const ScopedEnv watchdog("WATCHDOG_USEC", "20000");  // a tick every 10 ms
  ::unsetenv("WATCHDOG_PID");
  boost::asio::io_context io;
  DaemonStats stats;
  std::uint64_t beat = 1;  // busy on a task
  sd::ServiceNotifier n(io, stats, [&] { return beat; });
  REQUIRE(n.enabled());
  CHECK(n.watchdog_period() == std::chrono::microseconds(10000));

  n.ready();
  listener.receive_pending();
  REQUIRE(listener.messages().size() == 2);
  CHECK(NotifyListener::has(listener.messages()[0], "READY=1"));
  CHECK(NotifyListener::value(listener.messages()[0], "STATUS") == sd::status_line(stats));
  CHECK(listener.messages()[1] == "WATCHDOG=1");

  // The worker stays on its task for a whole tick: no ping.
  REQUIRE(io.run_one() == 1);  // the watchdog tick (the status timer is 5 s away)
  listener.receive_pending();
  CHECK(listener.count("WATCHDOG=1") == 1);
  // It finishes: pinged again at the next tick.
  beat = 2;
  REQUIRE(io.run_one() == 1);
  CHECK(listener.wait_until([&] { return listener.count("WATCHDOG=1") == 2; }, std::chrono::seconds(5)));

  const auto from = listener.messages().size();
  n.reloading();
  n.reloading();  // a second SIGHUP folded into the same reload
  n.reloaded();
  listener.receive_pending();
  REQUIRE(listener.count("RELOADING=1", from) == 1);
  const auto reloading = listener.find("RELOADING=1", from);
  CHECK(NotifyListener::has(listener.messages()[reloading], "MONOTONIC_USEC="));
  CHECK(listener.find("READY=1", reloading) != NotifyListener::npos);

  n.stopping();
  listener.receive_pending();
  CHECK(NotifyListener::has(listener.messages().back(), "STOPPING=1"));
  io.run();  // both timers were cancelled: returns at once
  n.reloaded();
  listener.receive_pending();
  CHECK(NotifyListener::has(listener.messages().back(), "STOPPING=1"));
}

TEST_CASE("journald: a priority prefix per level and no timestamp") {
  CHECK(std::string(sd::journal_priority(spdlog::level::trace)) == "<7>");
  CHECK(std::string(sd::journal_priority(spdlog::level::debug)) == "<7>");
  CHECK(std::string(sd::journal_priority(spdlog::level::info)) == "<6>");
  CHECK(std::string(sd::journal_priority(spdlog::level::warn)) == "<4>");
  CHECK(std::string(sd::journal_priority(spdlog::level::err)) == "<3>");
  CHECK(std::string(sd::journal_priority(spdlog::level::critical)) == "<2>");

  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("journal-test", sink);
  logger.set_formatter(sd::journal_formatter());
  logger.info("listening on {}", "/run/preroll/prerolld.sock");
  logger.error("reload: bad");
  CHECK(out.str() == "<6>info: listening on /run/preroll/prerolld.sock\n<3>error: reload: bad\n");
}

TEST_CASE("journald: JOURNAL_STREAM counts only when it names the descriptor's device and inode") {
  TempDir dir;
  const Fd a{::open((dir.path() / "a").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)};
  const Fd b{::open((dir.path() / "b").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)};
  struct stat st {};
  REQUIRE(::fstat(a.fd, &st) == 0);
  {
    const ScopedEnv env("JOURNAL_STREAM", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
    CHECK(sd::is_journal_stream(a.fd));
    CHECK_FALSE(sd::is_journal_stream(b.fd));  // stderr redirected elsewhere
  }
  {
    const ScopedEnv env("JOURNAL_STREAM", "garbage");
    CHECK_FALSE(sd::is_journal_stream(a.fd));
  }
  ::unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(sd::is_journal_stream(a.fd));
}

TEST_CASE("Socket activation: passed sockets are told apart by name, else by type and path") {
  TempDir dir;
  const auto reg = dir.path() / "prerolld.sock";
  const auto ctl = dir.path() / "prerolld.ctl";
  const std::vector<sd::WantedSocket> wanted = {{"registration", reg.string(), SOCK_SEQPACKET},
                                                {"control", ctl.string(), SOCK_STREAM}};
  const Fd r{make_socket(reg, SOCK_SEQPACKET)};
  const Fd c{make_socket(ctl, SOCK_STREAM)};

  SECTION("named") {
    CHECK(sd::assign_passed_sockets({{r.fd, "registration"}, {c.fd, "control"}}, wanted) ==
          std::vector<std::size_t>{0, 1});
  }
  SECTION("unnamed, in any order") {
    CHECK(sd::assign_passed_sockets({{c.fd, "unknown"}, {r.fd, "unknown"}}, wanted) ==
          std::vector<std::size_t>{1, 0});
  }
  SECTION("only one of them") {
    CHECK(sd::assign_passed_sockets({{r.fd, "registration"}}, wanted) == std::vector<std::size_t>{0});
  }
  SECTION("a name on the wrong socket") {
    CHECK_THROWS_WITH(sd::assign_passed_sockets({{c.fd, "registration"}}, wanted),
                      Catch::Contains("SOCK_STREAM at " + ctl.string()) &&
                          Catch::Contains("SOCK_SEQPACKET at " + reg.string()));
  }
  SECTION("the same socket twice") {
    CHECK_THROWS_WITH(sd::assign_passed_sockets({{r.fd, "registration"}, {r.fd, "unknown"}}, wanted),
                      Catch::Contains("two descriptors for the registration socket"));
  }
  SECTION("a socket at another path") {
    const Fd other{make_socket(dir.path() / "other.sock", SOCK_SEQPACKET)};
    CHECK_THROWS_WITH(sd::assign_passed_sockets({{other.fd, "unknown"}}, wanted),
                      Catch::Contains("none of the daemon's sockets") && Catch::Contains("other.sock"));
  }
  SECTION("a socket that does not listen") {
    ::unlink(reg.c_str());
    const Fd quiet{make_socket(reg, SOCK_SEQPACKET, false)};
    CHECK_THROWS(sd::assign_passed_sockets({{quiet.fd, "registration"}}, wanted));
  }
}

TEST_CASE("Socket activation: with nothing passed nothing is adopted and every path is ours to unlink") {
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_PID");
  sd::adopt_listen_fds({{"registration", "/nonexistent/prerolld.sock", SOCK_SEQPACKET}});
  CHECK(sd::take_passed_socket("/nonexistent/prerolld.sock", SOCK_SEQPACKET) == -1);
  CHECK_FALSE(sd::is_passed_socket_path("/nonexistent/prerolld.sock"));
}
