// The daemon's small pure parts at their edges: latency buckets from below a
// microsecond to past a second, size units and their overflow, file names
// from hostile process names, command lines, and what a socket systemd
// passes is described as when it is the wrong one.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

#include "latency_histogram.hpp"
#include "storage/atf_sink.hpp"
#include "storage/storage_config.hpp"
#include "systemd/socket_activation.hpp"

namespace pd = preroll::daemon;
using pd::LatencyHistogram;

TEST_CASE("latency buckets: below the first, four per power of two, and the overflow bucket", "[latency]") {
  CHECK(LatencyHistogram::bucket_of(0) == 0);
  CHECK(LatencyHistogram::bucket_of(1023) == 0);
  CHECK(LatencyHistogram::bucket_of(1024) == 1);
  CHECK(LatencyHistogram::bucket_of(1024 + 256) == 2);  // the second quarter of [2^10, 2^11)
  CHECK(LatencyHistogram::bucket_of(1ull << 30) == LatencyHistogram::kBuckets - 1);
  CHECK(LatencyHistogram::bucket_of(~0ull) == LatencyHistogram::kBuckets - 1);
  CHECK(LatencyHistogram::upper_bound_ns(0) == 1024);
  CHECK(LatencyHistogram::upper_bound_ns(1) == 1024 + 256);
  CHECK(LatencyHistogram::upper_bound_ns(LatencyHistogram::kBuckets - 1) == (1ull << 30));
  for (int b = 1; b < LatencyHistogram::kBuckets - 1; ++b) {
    INFO("bucket " << b);
    CHECK(LatencyHistogram::bucket_of(LatencyHistogram::upper_bound_ns(b) - 1) == b);
  }
}

TEST_CASE("latency quantiles: empty, one sample, the top of the range", "[latency]") {
  LatencyHistogram h;
  CHECK(h.quantile_ns(0.5) == 0);
  h.record(5000);
  CHECK(h.count() == 1);
  CHECK(h.sum_ns() == 5000);
  CHECK(h.quantile_ns(0.5) == LatencyHistogram::upper_bound_ns(LatencyHistogram::bucket_of(5000)));
  h.record(5ull << 30);  // past the last power: the overflow bucket
  CHECK(h.quantile_ns(1.0) == (1ull << 30));
  // A quantile past 1 ranks beyond every sample: the last bucket's bound.
  CHECK(h.quantile_ns(2.0) == (1ull << 30));
}

TEST_CASE("sizes: units with and without B or iB, k and K, and values that would overflow", "[storage][config]") {
  CHECK(pd::parse_size("7") == 7u);
  CHECK(pd::parse_size("7B") == 7u);
  CHECK(pd::parse_size("2k") == 2048u);
  CHECK(pd::parse_size("2KB") == 2048u);
  CHECK(pd::parse_size("2KiB") == 2048u);
  CHECK(pd::parse_size("3MiB") == 3u << 20);
  CHECK(pd::parse_size("1T") == 1ull << 40);
  CHECK_FALSE(pd::parse_size("5X").has_value());
  CHECK_FALSE(pd::parse_size("5XiB").has_value());
  CHECK_FALSE(pd::parse_size("KiB").has_value());
  CHECK_FALSE(pd::parse_size("99999999999999999999").has_value());  // digits past 2^62
  CHECK_FALSE(pd::parse_size("4194305T").has_value());               // past 2^62 after the unit
  CHECK(pd::parse_size("4194304T") == 1ull << 62);
  CHECK(pd::format_size(1023) == "1023 B");
  CHECK(pd::format_size(1536) == "1.5 KiB");
  CHECK(pd::format_size(5ull << 50) == "5120.0 TiB");  // no unit above TiB
  CHECK(pd::to_string(static_cast<pd::FsyncPolicy>(9)) == "unknown");
  pd::StorageConfig cfg;
  cfg.max_disk_usage.reset();
  CHECK(pd::resolve_disk_quota(cfg, "/nonexistent/preroll/output") == 4ull << 30);  // statvfs fails: the cap
}

TEST_CASE("file names: a hostile process name becomes a safe one, and a command line loses its NULs", "[storage]") {
  pd::ClientIdentity c;
  c.pid = 12;
  c.start_realtime_ns = 0;
  c.process_name = "../a b/c$";
  CHECK(pd::file_base_name(c) == "p.._a_b_c_-12-19700101T000000Z");
  c.process_name = "";
  CHECK(pd::file_base_name(c) == "p-12-19700101T000000Z");
  c.process_name = "ok-name_1.x";
  CHECK(pd::file_base_name(c) == "ok-name_1.x-12-19700101T000000Z");
  const std::string own = pd::read_command_line(static_cast<std::uint32_t>(::getpid()));
  CHECK_FALSE(own.empty());
  CHECK(own.find('\0') == std::string::npos);
  CHECK(pd::read_command_line(0).empty());  // no such process
  CHECK_FALSE(pd::host_name().empty());
}

TEST_CASE("Socket activation: a wrong descriptor is described as what it is", "[systemd]") {
  namespace sd = pd::systemd;
  const std::vector<sd::WantedSocket> wanted = {{"registration", "/run/preroll/prerolld.sock", SOCK_SEQPACKET},
                                                 {"control", "/run/preroll/prerolld.ctl", SOCK_STREAM}};
  const auto message = [&](int fd, const std::string& name, const std::vector<sd::WantedSocket>& w) {
    try {
      (void)sd::assign_passed_sockets({{fd, name}}, w);
      return std::string("assigned");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
  };
  const int file = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  CHECK_THAT(message(file, "unknown", wanted), Catch::Contains("(FileDescriptorName=unknown, not a socket)"));
  ::close(file);
  const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK_THAT(message(tcp, "unknown", wanted), Catch::Contains("a non-AF_UNIX SOCK_STREAM)"));
  ::close(tcp);
  const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK_THAT(message(udp, "unknown", wanted), Catch::Contains("a non-AF_UNIX SOCK_DGRAM)"));
  ::close(udp);
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  CHECK_THAT(message(pair[0], "control", wanted),
             Catch::Contains("SOCK_SEQPACKET at no address) as the control socket, but the daemon is configured for "
                             "a listening SOCK_STREAM at /run/preroll/prerolld.ctl"));
  ::close(pair[0]);
  ::close(pair[1]);
  const int abstract = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const char name[] = "\0preroll-test-abstract";
  std::memcpy(addr.sun_path, name, sizeof name - 1);
  REQUIRE(::bind(abstract, reinterpret_cast<sockaddr*>(&addr),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof name - 1)) == 0);
  const std::vector<sd::WantedSocket> odd = {{"registration", "/x", 99}};
  CHECK_THAT(message(abstract, "registration", odd),
             Catch::Contains("SOCK_STREAM at an abstract address) as the registration socket, but the daemon is "
                             "configured for a listening socket at /x"));
  ::close(abstract);
}

TEST_CASE("Socket activation: a LISTEN_FDS meant for this process but not a number stops startup", "[systemd]") {
  ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDS", "many", 1);
  CHECK_THROWS_WITH(pd::systemd::adopt_listen_fds({}), Catch::StartsWith("socket activation: LISTEN_FDS: "));
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
}
