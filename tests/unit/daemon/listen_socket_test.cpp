// The daemon's listening sockets: where it refuses to listen (bad path, a
// file in the way, another daemon there), what it cleans up (a dead
// daemon's socket file, a missing directory), and each system call failing
// (in a forked child: syscall_faults.hpp).
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "listen_socket.hpp"
#include "process.hpp"
#include "syscall_faults.hpp"

namespace pd = preroll::daemon;
namespace fs = std::filesystem;
using preroll::test::fail_syscalls;
using preroll::test::in_child;

namespace {

// What open_listen_socket threw, or "listening" (the socket closed again).
std::string listen_outcome(const std::string& path, int type = SOCK_STREAM) {
  try {
    const int fd = pd::open_listen_socket(path, type, "test socket");
    ::close(fd);
    return "listening";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

// A socket file at `path` whose socket is closed: what a killed daemon leaves.
void leave_dead_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
}

}  // namespace

TEST_CASE("listen socket: an empty or too long path is refused, naming the limit", "[listen]") {
  CHECK(listen_outcome("") == "test socket : path is empty or longer than 107 bytes");
  const std::string long_path = "/tmp/" + std::string(103, 'p');
  CHECK(listen_outcome(long_path) == "test socket " + long_path + ": path is empty or longer than 107 bytes");
}

TEST_CASE("listen socket: a missing directory is made, one that cannot be is reported", "[listen]") {
  preroll::test::TempDir dir;
  const fs::path nested = dir.path() / "a" / "b";
  CHECK(listen_outcome((nested / "d.sock").string()) == "listening");
  CHECK(fs::is_directory(nested));
  CHECK((fs::status(nested).permissions() & fs::perms::all) == fs::perms(0755));
  std::ofstream(dir.path() / "file") << "x";
  const std::string under_file = (dir.path() / "file" / "sub" / "d.sock").string();
  CHECK_THAT(listen_outcome(under_file),
             Catch::StartsWith("test socket " + under_file + ": cannot create directory " +
                               (dir.path() / "file" / "sub").string() + ": "));
}

TEST_CASE("listen socket: a file in the way or a live daemon there is refused, a dead one's socket replaced", "[listen]") {
  preroll::test::TempDir dir;
  const std::string path = (dir.path() / "d.sock").string();
  std::ofstream(path) << "x";
  CHECK(listen_outcome(path) == "test socket " + path + ": exists and is not a socket");
  fs::remove(path);

  const int live = pd::open_listen_socket(path, SOCK_STREAM, "test socket");
  CHECK(listen_outcome(path) == "test socket " + path + ": another prerolld is already listening there");
  ::close(live);

  fs::remove(path);
  leave_dead_socket(path);
  CHECK(listen_outcome(path) == "listening");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0666);  // any local user may connect
  pd::remove_listen_socket(path);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("listen socket: socket(), bind() and listen() failing are reported with the error", "[listen]") {
  preroll::test::TempDir dir;
  const std::string path = (dir.path() / "d.sock").string();
  // listen() on a datagram socket is refused by the kernel itself.
  CHECK(listen_outcome(path, SOCK_DGRAM) == "test socket " + path + ": listen(): Operation not supported");
  fs::remove(path);
  const std::string out = in_child([&] {
    if (!fail_syscalls({{SYS_socket, EMFILE}})) return std::string("no seccomp");
    return listen_outcome(path);
  });
  CHECK(out == "test socket " + path + ": socket(): Too many open files");
  const std::string bound = in_child([&] {
    if (!fail_syscalls({{SYS_bind, EACCES}})) return std::string("no seccomp");
    return listen_outcome(path);
  });
  CHECK(bound == "test socket " + path + ": bind(): Permission denied");
}

TEST_CASE("listen socket: a dead daemon's socket is replaced even when the liveness probe cannot be made", "[listen]") {
  preroll::test::TempDir dir;
  const std::string path = (dir.path() / "d.sock").string();
  leave_dead_socket(path);
  const std::string out = in_child([&] {
    // Room for exactly one more descriptor: the listening socket gets it,
    // the probe does not.
    const int lowest_free = ::dup(0);
    ::close(lowest_free);
    rlimit before{};
    ::getrlimit(RLIMIT_NOFILE, &before);
    rlimit limit = before;
    limit.rlim_cur = static_cast<rlim_t>(lowest_free) + 1;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return std::string("setrlimit failed");
    std::string r;
    try {
      const int fd = pd::open_listen_socket(path, SOCK_STREAM, "test socket");
      r = "listening";
      ::close(fd);
    } catch (const std::runtime_error& e) {
      r = e.what();
    }
    ::setrlimit(RLIMIT_NOFILE, &before);
    return r;
  });
  CHECK(out == "listening");
}
