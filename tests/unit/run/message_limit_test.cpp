// preroll-run cuts long lines at the message limit the client library has in
// the process, computed from the PREROLL_* variables. Checked against the
// library itself: in a fresh process per case (the library reads the
// variables once), a message of the computed size is kept whole.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "message_limit.hpp"
#include "preroll/preroll.h"

using preroll::run::GeometryEnv;
using preroll::run::library_message_limit;

namespace {

// In a child process with these variables: emits `size` bytes, hands the
// ring over and returns how many events the library truncated (or -1).
int truncated_in_child(const GeometryEnv& env, std::uint32_t size) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const auto set = [](const char* name, const char* v) {
      if (v != nullptr) ::setenv(name, v, 1);
      else ::unsetenv(name);
    };
    set("PREROLL_MAX_MESSAGE", env.max_message);
    set("PREROLL_RING_SIZE", env.ring_size);
    set("PREROLL_LANES", env.lanes);
    set("PREROLL_RINGS_PER_LANE", env.rings_per_lane);
    ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
    ::unsetenv("PREROLL_DISABLE");
    const std::string msg(size, 'm');
    preroll_emit_n(PREROLL_INFO, "stdout", 6, msg.data(), msg.size());
    preroll_flush();  // lane counters are published at the hand-over
    preroll_counters c{};
    if (preroll_get_counters(&c) != 0 || c.events_written != 1) ::_exit(100);
    ::_exit(static_cast<int>(c.events_truncated));
  }
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) != 100);
  return WEXITSTATUS(st);
}

}  // namespace

TEST_CASE("message limit: the computed limit is what the library keeps, never more") {
  struct Case {
    GeometryEnv env;
    std::uint32_t expected;
  };
  const Case cases[] = {
      {{}, 4096},
      {{nullptr, "4096"}, 4096 / 4 - 279},  // small rings lower the default
      {{nullptr, "8192"}, 8192 / 4 - 279},
      {{"1000", nullptr}, 1000},
      {{"20000", "262144"}, 20000},
      {{"20000", nullptr}, 4096},   // does not fit 64 KiB rings: every variable ignored
      {{"1000", "4096"}, 4096},     // the same
      {{nullptr, "5000"}, 4096},    // not whole pages: ignored
      {{"x", nullptr}, 4096},       // not a number: the default
      {{nullptr, "8192", "0"}, 4096},  // no lanes: every variable ignored
      {{"", "8192"}, 4096},         // set but empty: 4096 does not fit 8 KiB rings
  };
  for (const Case& c : cases) {
    INFO("PREROLL_MAX_MESSAGE=" << (c.env.max_message ? c.env.max_message : "(unset)")
                                << " PREROLL_RING_SIZE=" << (c.env.ring_size ? c.env.ring_size : "(unset)")
                                << " PREROLL_LANES=" << (c.env.lanes ? c.env.lanes : "(unset)"));
    const std::uint32_t limit = library_message_limit(c.env);
    CHECK(limit == c.expected);
    CHECK(truncated_in_child(c.env, limit) == 0);
    CHECK(truncated_in_child(c.env, limit + 1) == 1);  // exactly the library's limit
  }
}
