// The spdlog sink: records reach the ring with the logger name, the raw
// payload and the mapped level; mark_level marks; flush hands the ring over.
#include <catch2/catch.hpp>
#include <spdlog/logger.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "active_ring.hpp"
#include "preroll/spdlog_sink.hpp"

using namespace preroll;

namespace {

struct Seen {
  std::string name, message;
  std::uint8_t level = 0, flags = 0;
};

// Every event in the calling thread's active ring.
std::vector<Seen> active_ring_events() {
  std::vector<Seen> out;
  test::read_active_ring([&](const shm::RecordView& v) {
    out.push_back({std::string(v.name), std::string(v.message), v.level, v.flags});
  });
  return out;
}

}  // namespace

TEST_CASE("spdlog sink: name, payload and level reach the ring, and mark_level marks") {
  ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
  auto sink = std::make_shared<spdlog_sink>(spdlog::level::err);
  spdlog::logger logger("orders", sink);
  logger.set_level(spdlog::level::trace);
  logger.set_pattern("[%H:%M:%S] %v");  // the sink records the payload, not the pattern
  logger.trace("t {}", 1);
  logger.info("order {} accepted", 42);
  logger.warn("slow: {} ms", 250);
  logger.error("order {} failed", 43);
  logger.critical("giving up");

  const auto events = active_ring_events();
  REQUIRE(events.size() >= 5);
  const std::vector<Seen> last(events.end() - 5, events.end());
  CHECK(last[0].message == "t 1");
  CHECK(last[0].level == PREROLL_TRACE);
  CHECK(last[1].name == "orders");
  CHECK(last[1].message == "order 42 accepted");
  CHECK(last[1].level == PREROLL_INFO);
  CHECK((last[1].flags & shm::event_flag::client_marked) == 0);
  CHECK(last[2].level == PREROLL_WARN);
  CHECK(last[3].message == "order 43 failed");
  CHECK(last[3].level == PREROLL_ERROR);
  CHECK((last[3].flags & shm::event_flag::client_marked) != 0);  // at mark_level
  CHECK(last[4].level == PREROLL_FATAL);
  CHECK((last[4].flags & shm::event_flag::client_marked) != 0);
}

TEST_CASE("spdlog sink: levels below the logger's are never recorded") {
  ::setenv("PREROLL_SOCKET", "/nonexistent/preroll-test.sock", 1);
  spdlog::logger logger("quiet", std::make_shared<spdlog_sink>());
  logger.set_level(spdlog::level::warn);
  logger.info("not recorded {}", 1);
  logger.warn("recorded {}", 2);
  const auto events = active_ring_events();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().message == "recorded 2");
  for (const auto& e : events) CHECK(e.message != "not recorded 1");
}
