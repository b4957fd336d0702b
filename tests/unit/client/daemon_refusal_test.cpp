// The client library's side of a refused connection (a limit, a corrupt
// segment): the daemon's REFUSED is read once a send fails, logged once per
// reason on stderr, not counted as a connection, and the library goes on as
// after a daemon that went away. Against a socket this test plays the daemon on.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "daemon_link.hpp"
#include "preroll/shm/wire.hpp"

namespace wire = preroll::shm::wire;

namespace {

class FakeDaemon {
 public:
  FakeDaemon() {
    path_ = std::filesystem::temp_directory_path() / ("preroll-refusal-" + std::to_string(::getpid()) + ".sock");
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
  }
  ~FakeDaemon() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  [[nodiscard]] std::string path() const { return path_.string(); }
  // Accepts the pending connection; REFUSED (if `reason`), then close, the
  // HELLO left unread as prerolld does.
  void refuse_next(std::optional<wire::Refused> reason) const {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(c >= 0);
    if (reason) {
      std::array<std::byte, wire::kRefusedSize> m;
      wire::encode_refused(m, *reason);
      REQUIRE(::send(c, m.data(), m.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(m.size()));
    }
    ::close(c);
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// stderr of what `f` does.
template <class F>
std::string stderr_of(F f) {
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int tmp = ::memfd_create("stderr", MFD_CLOEXEC);
  ::dup2(tmp, STDERR_FILENO);
  f();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out(4096, '\0');
  const ssize_t n = ::pread(tmp, out.data(), out.size(), 0);
  ::close(tmp);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace

TEST_CASE("daemon link: a refusal is noticed at the next send, said once per reason, and not counted as a connection") {
  FakeDaemon daemon;
  const int segment = ::memfd_create("segment", MFD_CLOEXEC);
  REQUIRE(segment >= 0);
  preroll::client::DaemonLink link(daemon.path(), segment, 4096);
  REQUIRE(link.connect_now());
  CHECK(link.connects() == 1);
  daemon.refuse_next(wire::Refused{static_cast<std::uint32_t>(wire::RefuseReason::max_clients_per_user), 3});
  const std::string said = stderr_of([&] { link.doorbell(0); });
  CHECK_FALSE(link.connected());
  CHECK(link.connects() == 0);
  CHECK(said ==
        "preroll: prerolld refused this process: too many client connections of this user "
        "(--max-clients-per-user 3); capture goes on, the library retries later\n");

  // Refused again for the same reason: not said again.
  REQUIRE(link.connect_now());
  daemon.refuse_next(wire::Refused{static_cast<std::uint32_t>(wire::RefuseReason::max_clients_per_user), 3});
  CHECK(stderr_of([&] { link.doorbell(0); }).empty());
  CHECK(link.connects() == 0);

  // A daemon that simply went away (no REFUSED): the connection counted stays counted.
  REQUIRE(link.connect_now());
  daemon.refuse_next(std::nullopt);
  CHECK(stderr_of([&] { link.doorbell(0); }).empty());
  CHECK_FALSE(link.connected());
  CHECK(link.connects() == 1);

  // Detached as faulty: it had been served, so it stays counted; said once.
  REQUIRE(link.connect_now());
  daemon.refuse_next(wire::Refused{static_cast<std::uint32_t>(wire::RefuseReason::faulty), 10});
  CHECK_THAT(stderr_of([&] { link.goodbye(); }), Catch::Contains("segment found corrupt; detached, refused for 10 s"));
  CHECK(link.connects() == 2);
  ::close(segment);
}
