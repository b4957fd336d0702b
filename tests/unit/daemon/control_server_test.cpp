// The control socket's server on its own io_context, with real sockets and
// no daemon: several requests on one connection, what closes a connection
// (a bad request, an oversized one, EOF, idleness, stop), the connection
// limit for root, a deferred flush reply (also to a peer gone meanwhile), and the
// system calls failing (accept, the peer's credentials, sends; in a forked
// child: syscall_faults.hpp).
#include "control/control_server.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "process.hpp"
#include "syscall_faults.hpp"

namespace pc = preroll::daemon::control;
namespace pd = preroll::daemon;
using preroll::test::wait_for;
using namespace std::chrono_literals;

namespace {

using CtlsrvFlush = std::function<bool(std::uint32_t, std::function<void(nlohmann::json)>)>;

// A ControlServer on a socket in a temporary directory, its io_context run
// by a thread of its own.
class CtlsrvRig {
 public:
  explicit CtlsrvRig(std::uint32_t max_connections, CtlsrvFlush flush = {})
      : holder_(pd::MarkingPolicy::build(pd::PolicyConfig{})),
        path_((dir_.path() / "ctl.sock").string()),
        server_(std::make_unique<pc::ControlServer>(
            io_, path_,
            pc::ControlState{
                stats, holder_, none_, ::getuid(), std::chrono::steady_clock::now(), {}, {}, std::move(flush)},
            stats, pc::ControlLimits{max_connections, 8})) {
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CtlsrvRig() {
    stop();
    guard_.reset();
    thread_.join();
  }
  CtlsrvRig(const CtlsrvRig&) = delete;
  CtlsrvRig& operator=(const CtlsrvRig&) = delete;

  // Runs `f` on the io thread and waits for it.
  void on_io(const std::function<void()>& f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  // Stops the server twice (the second is a no-op), then destroys it once
  // the handlers its stop aborted have run (as the daemon does: it destroys
  // its ControlServer after io_context::run returned).
  void stop() {
    on_io([this] {
      if (!server_) return;
      server_->stop();
      server_->stop();
    });
    on_io([this] { server_.reset(); });
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::uint64_t open_connections() const { return stats.control_connections.load(); }

  pd::DaemonStats stats;

 private:
  preroll::test::TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_ = boost::asio::make_work_guard(io_);
  pd::PolicyHolder holder_;
  std::set<std::shared_ptr<pd::ClientConnection>> none_;
  std::string path_;
  std::unique_ptr<pc::ControlServer> server_;
  std::thread thread_;
};

// A connected client socket (reads time out after 10 s), or -1.
int ctlsrv_connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool ctlsrv_send(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// One reply line without its newline; "<eof>" when the server closed first,
// "<error>" on a timeout or reset.
std::string ctlsrv_line(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == 0) return line.empty() ? "<eof>" : line + "<eof>";
    if (n < 0) return "<error>";
    if (c == '\n') return line;
    line += c;
  }
}

// The text after `fd` was closed by the server: "" when nothing more came.
std::string ctlsrv_rest(int fd) {
  const std::string line = ctlsrv_line(fd);
  return line == "<eof>" ? "" : line;
}

const std::string ctlsrv_version_reply = std::string("{\"ok\":true,\"version\":\"") + PREROLL_VERSION + "\"}";

}  // namespace

TEST_CASE("control server: requests on one connection are answered in order, a bad one closes it", "[control]") {
  CtlsrvRig rig(4);
  const int fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  // Two requests in one write, then a third.
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"version\"}\n{\"cmd\":\"reload\"}\n"));
  CHECK(ctlsrv_line(fd) == ctlsrv_version_reply);
  CHECK(ctlsrv_line(fd) == "{\"error\":\"reload: not available\",\"ok\":false}");  // not wired up here
  CHECK(rig.open_connections() == 1);
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"version\"}\r\n"));
  CHECK(ctlsrv_line(fd) == ctlsrv_version_reply);
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"halt\"}\n"));
  CHECK_THAT(ctlsrv_line(fd), Catch::StartsWith("{\"error\":\"unknown command \\\"halt\\\""));
  CHECK(ctlsrv_rest(fd).empty());  // and closed
  ::close(fd);
  CHECK(wait_for([&] { return rig.open_connections() == 0; }, 5s));
  CHECK(rig.stats.control_refused.load() == 0);
}

TEST_CASE("control server: a request longer than the limit without a newline is refused and closed", "[control]") {
  CtlsrvRig rig(4);
  const int fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  REQUIRE(ctlsrv_send(fd, std::string(pc::max_request_bytes + 1, 'x')));
  CHECK(ctlsrv_line(fd) == "{\"error\":\"request longer than 4096 bytes\",\"ok\":false}");
  CHECK(ctlsrv_rest(fd).empty());
  ::close(fd);
  CHECK(wait_for([&] { return rig.open_connections() == 0; }, 5s));
}

TEST_CASE("control server: a peer that hangs up mid-request is forgotten", "[control]") {
  CtlsrvRig rig(4);
  const int fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"vers"));
  REQUIRE(::shutdown(fd, SHUT_WR) == 0);
  CHECK(ctlsrv_rest(fd).empty());  // no reply to half a request
  ::close(fd);
  CHECK(wait_for([&] { return rig.open_connections() == 0; }, 5s));
}

TEST_CASE("control server: beyond the limit a connection gets one error line, then room is made again", "[control]") {
  CtlsrvRig rig(1);
  const int first = ctlsrv_connect(rig.path());
  REQUIRE(first >= 0);
  REQUIRE(ctlsrv_send(first, "{\"cmd\":\"version\"}\n"));
  REQUIRE(ctlsrv_line(first) == ctlsrv_version_reply);  // accepted and served
  const int second = ctlsrv_connect(rig.path());
  REQUIRE(second >= 0);
  CHECK(ctlsrv_line(second) ==
        "{\"error\":\"too many control connections (--max-control-connections 1); try again later\",\"ok\":false}");
  CHECK(ctlsrv_rest(second).empty());
  ::close(second);
  CHECK(rig.stats.control_refused.load() == 1);
  CHECK(rig.open_connections() == 1);
  ::close(first);
  REQUIRE(wait_for([&] { return rig.open_connections() == 0; }, 5s));
  const int third = ctlsrv_connect(rig.path());
  REQUIRE(third >= 0);
  REQUIRE(ctlsrv_send(third, "{\"cmd\":\"version\"}\n"));
  CHECK(ctlsrv_line(third) == ctlsrv_version_reply);
  ::close(third);
  CHECK(rig.stats.control_refused.load() == 1);
}

TEST_CASE("control server: a flush is answered when done, and not at all to a peer gone meanwhile", "[control]") {
  std::mutex mutex;
  std::function<void(nlohmann::json)> pending;
  std::uint32_t asked = 0;
  CtlsrvRig rig(4, [&](std::uint32_t pid, std::function<void(nlohmann::json)> done) {
    if (pid == 5) return false;
    std::lock_guard lock(mutex);
    asked = pid;
    pending = std::move(done);
    return true;
  });
  const auto has_pending = [&] {
    std::lock_guard lock(mutex);
    return static_cast<bool>(pending);
  };
  const auto finish = [&] {
    rig.on_io([&] {
      std::function<void(nlohmann::json)> done;
      {
        std::lock_guard lock(mutex);
        done.swap(pending);
      }
      done({{"clients", 1}, {"windows_written", 2}});
    });
  };
  int fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"flush\",\"pid\":5}\n"));
  CHECK(ctlsrv_line(fd) == "{\"error\":\"flush: no attached client with pid 5\",\"ok\":false}");
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"flush\",\"pid\":9}\n"));
  REQUIRE(wait_for(has_pending, 5s));
  CHECK(asked == 9);
  finish();
  CHECK(ctlsrv_line(fd) == "{\"clients\":1,\"ok\":true,\"pid\":9,\"status\":\"flushed\",\"windows_written\":2}");
  // The connection goes on after a deferred reply.
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"version\"}\n"));
  CHECK(ctlsrv_line(fd) == ctlsrv_version_reply);
  // The peer leaves before the flush is done (nothing reads meanwhile: the
  // peer is waiting): the reply cannot be sent, and the connection goes.
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"flush\"}\n"));
  REQUIRE(wait_for(has_pending, 5s));
  CHECK(asked == 0);
  ::close(fd);
  CHECK(rig.open_connections() == 1);
  finish();
  CHECK_FALSE(has_pending());
  CHECK(wait_for([&] { return rig.open_connections() == 0; }, 5s));
  // Still serving.
  fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  REQUIRE(ctlsrv_send(fd, "{\"cmd\":\"version\"}\n"));
  CHECK(ctlsrv_line(fd) == ctlsrv_version_reply);
  ::close(fd);
}

TEST_CASE("control server: stop closes every connection and removes the socket file", "[control]") {
  CtlsrvRig rig(4);
  const int a = ctlsrv_connect(rig.path());
  const int b = ctlsrv_connect(rig.path());
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  REQUIRE(ctlsrv_send(a, "{\"cmd\":\"version\"}\n"));
  REQUIRE(ctlsrv_line(a) == ctlsrv_version_reply);
  REQUIRE(wait_for([&] { return rig.open_connections() == 2; }, 5s));
  rig.stop();
  CHECK(ctlsrv_rest(a).empty());
  CHECK(ctlsrv_rest(b).empty());
  CHECK_FALSE(std::filesystem::exists(rig.path()));
  CHECK(rig.open_connections() == 0);
  CHECK(ctlsrv_connect(rig.path()) == -1);
  ::close(a);
  ::close(b);
}

TEST_CASE("control server: a connection silent for the idle timeout is closed", "[control]") {
  CtlsrvRig rig(4);
  const int fd = ctlsrv_connect(rig.path());
  REQUIRE(fd >= 0);
  const auto start = std::chrono::steady_clock::now();
  CHECK(ctlsrv_rest(fd).empty());
  CHECK(std::chrono::steady_clock::now() - start >= pc::idle_timeout - 500ms);
  ::close(fd);
  CHECK(wait_for([&] { return rig.open_connections() == 0; }, 5s));
}

TEST_CASE("control server: destroyed without stop it removes its socket, and a second one on the path is refused",
          "[control]") {
  preroll::test::TempDir dir;
  const std::string path = (dir.path() / "c.sock").string();
  boost::asio::io_context io;
  pd::DaemonStats stats;
  pd::PolicyHolder holder(pd::MarkingPolicy::build(pd::PolicyConfig{}));
  std::set<std::shared_ptr<pd::ClientConnection>> none;
  const pc::ControlState state{stats, holder, none, 0, std::chrono::steady_clock::now(), {}, {}, {}};
  {
    pc::ControlServer server(io, path, state, stats, pc::ControlLimits{2, 1});
    CHECK(server.path() == path);
    CHECK(std::filesystem::exists(path));
    CHECK_THROWS_WITH(pc::ControlServer(io, path, state, stats, pc::ControlLimits{2, 1}), Catch::Contains(path));
    CHECK(std::filesystem::exists(path));  // the refused one leaves the live socket alone
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("control server: a failing accept is counted and retried after a pause", "[control]") {
  const std::string out = preroll::test::in_child([] {
    if (!preroll::test::fail_syscalls({{SYS_accept, EMFILE}, {SYS_accept4, EMFILE}})) return std::string("no filter");
    CtlsrvRig rig(4);
    const int fd = ctlsrv_connect(rig.path());
    if (fd < 0) return std::string("no connect");
    const bool retried = wait_for([&] { return rig.stats.accept_errors.load() >= 3; }, 5s);
    const std::string result =
        "retried " + std::to_string(retried) + ", open " + std::to_string(rig.open_connections());
    rig.stop();
    ::close(fd);
    return result;
  });
  CHECK(out == "retried 1, open 0");
}

TEST_CASE("control server: without the peer's credentials a connection is refused with an error line", "[control]") {
  const std::string out = preroll::test::in_child([] {
    if (!preroll::test::fail_syscalls({{SYS_getsockopt, EACCES}})) return std::string("no filter");
    CtlsrvRig rig(4);
    const int fd = ctlsrv_connect(rig.path());
    if (fd < 0) return std::string("no connect");
    std::string result = ctlsrv_line(fd);
    result += " | " + ctlsrv_rest(fd);
    result += " | refused " + std::to_string(rig.stats.control_refused.load());
    result += ", open " + std::to_string(rig.open_connections());
    ::close(fd);
    return result;
  });
  CHECK(out == "{\"error\":\"cannot read peer credentials; try again later\",\"ok\":false} |  | refused 1, open 0");
}

TEST_CASE("control server: a reply that cannot be sent closes the connection", "[control]") {
  const std::string out = preroll::test::in_child([] {
    // The server sends with send/sendmsg; the client writes with write().
    if (!preroll::test::fail_syscalls({{SYS_sendto, EPIPE}, {SYS_sendmsg, EPIPE}})) return std::string("no filter");
    std::string result;
    CtlsrvRig rig(4);
    int fd = ctlsrv_connect(rig.path());
    if (fd < 0) return std::string("no connect");
    const std::string request = "{\"cmd\":\"version\"}\n";
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      return std::string("no write");
    result += "served: " + ctlsrv_line(fd);
    ::close(fd);
    const bool forgotten = wait_for([&] { return rig.open_connections() == 0; }, 5s);
    result += ", forgotten " + std::to_string(forgotten);
    return result;
  });
  CHECK(out == "served: <eof>, forgotten 1");
}
