// The C++ API over the C API: string_view with embedded NULs, enum levels,
// the fmt-style overload, and preroll_configure.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "preroll/fmt.hpp"
#include "preroll/preroll.hpp"
#include "active_ring.hpp"

using namespace preroll;

namespace {
struct LastEvent {
  std::string name, message;
  std::uint8_t level = 0, flags = 0;
};

// The most recent event in the calling thread's active ring.
LastEvent last_event() {
  LastEvent e;
  test::read_active_ring([&](const shm::RecordView& v) {
    e.name = std::string(v.name);
    e.message = std::string(v.message);
    e.level = v.level;
    e.flags = v.flags;
  });
  return e;
}

void no_daemon() { ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1); }
}  // namespace

TEST_CASE("string_view emit keeps embedded NUL bytes and the enum level") {
  no_daemon();
  const std::string msg("a\0b", 3);
  preroll::emit(Level::warn, "cpp", msg);
  const auto e = last_event();
  CHECK(e.message == msg);
  CHECK(e.name == "cpp");
  CHECK(e.level == static_cast<std::uint8_t>(Level::warn));
}

TEST_CASE("fmt overload formats the message and mark sets the client flag") {
  no_daemon();
  preroll::emit(Level::info, "fmt", "{} took {} ms", "query", 42);
  auto e = last_event();
  CHECK(e.message == "query took 42 ms");
  preroll::mark("fmt", "order {} failed", 7);
  e = last_event();
  CHECK(e.message == "order 7 failed");
  CHECK((e.flags & shm::event_flag::client_marked) != 0);
}

TEST_CASE("preroll_configure sets the geometry before the first event and is refused after") {
  no_daemon();
  ::unsetenv("PREROLL_RING_SIZE");
  ::unsetenv("PREROLL_RINGS_PER_LANE");
  preroll_config bad{};
  bad.ring_size = 5000;  // not a page multiple
  CHECK(preroll_configure(&bad) == -1);
  preroll_config c{};
  c.ring_size = 16384;
  c.rings_per_lane = 3;
  REQUIRE(preroll_configure(&c) == 0);
  preroll_emit(PREROLL_INFO, "cfg", "first");
  auto* rt = client::Runtime::peek();
  REQUIRE(rt != nullptr);
  CHECK(rt->segment().layout().geometry.ring_size == 16384);
  CHECK(rt->segment().layout().geometry.rings_per_lane == 3);
  CHECK(preroll_configure(&c) == -1);
}
