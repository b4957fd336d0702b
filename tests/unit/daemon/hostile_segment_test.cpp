// A hostile client's segment as the daemon's ClientSegment sees it: the
// rules the integration test hostile_client_test.cpp found the daemon not
// enforcing (issue #9), one case each, plus the legitimate cases that must
// not be taken for them. The test plays the client through the shm
// primitives (test_segment.hpp).
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "marking_policy.hpp"
#include "test_segment.hpp"

using namespace preroll;
using daemon::MarkingPolicy;
using daemon::PolicyConfig;
using test::FakeSink;
using test::TestEvent;
using test::TestSegment;
using FreeConsumer = shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane>;
using SubmitProducer = shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane>;

namespace {

PolicyConfig mark_policy(std::uint32_t pre = 0) {
  PolicyConfig c;
  c.triggers = {{"MARK", daemon::PatternKind::literal, 1, 0}};
  c.trigger_level = -1;
  c.pre_roll = pre;
  c.post_roll = 0;
  return c;
}

std::vector<TestEvent> four_events(const std::string& tag, bool marked = false) {
  std::vector<TestEvent> v;
  for (int i = 0; i < 4; ++i) v.push_back({tag + "-" + std::to_string(i) + (marked && i == 2 ? " MARK" : "")});
  return v;
}

void push_submit(TestSegment& ts, std::uint32_t lane, std::uint32_t ring) {
  SubmitProducer sq(&ts.ref().lane(lane).submit_queue);
  REQUIRE(sq.try_push(ring) == shm::QueueStatus::ok);
}

// Routes the default logger to a string for the test's duration.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  [[nodiscard]] std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A sink that plays the client once, in the middle of a drain: after the
// window is written and before its ring is handed back.
class MeddlingSink final : public daemon::WindowSink {
 public:
  explicit MeddlingSink(std::function<void()> meddle) : meddle_(std::move(meddle)) {}
  bool persist(const atf::WindowMeta&, std::span<const atf::EventView>) override {
    if (meddle_) std::exchange(meddle_, nullptr)();
    ++windows;
    return true;
  }
  int windows = 0;

 private:
  std::function<void()> meddle_;
};

}  // namespace

TEST_CASE("hostile segment: a ring submitted twice while the daemon holds it makes the client faulty") {
  // Before: the daemon held the same ring twice as pre-roll, aged the first
  // copy out (handing the ring back) while keeping the second, so the ring
  // was at once the client's spare and the daemon's.
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(mark_policy(1)));
  FakeSink sink;
  const auto ring = ts.submit_window(0, four_events("u"));  // unmarked: held as pre-roll
  push_submit(ts, 0, ring);
  cs->drain(sink, h.ctx());
  REQUIRE(cs->faulty());
  CHECK(cs->fault() == "lane 0: ring " + std::to_string(ring) + " submitted twice (the daemon holds it)");
  CHECK(h.stats.clients_faulty.load() == 1);
  CHECK(sink.windows.empty());
}

TEST_CASE("hostile segment: a ring submitted while it waits in the free queue makes the client faulty") {
  // Before: undetected; the window was decided again and the ring pushed on
  // the free queue a second time (a duplicate spare).
  test::DrainHarness h(MarkingPolicy::build(mark_policy()));
  SECTION("written and handed back in between (a marked window submitted twice)") {
    TestSegment ts;
    auto cs = ts.attach();
    FakeSink sink;
    const auto ring = ts.submit_window(0, four_events("m", true));
    push_submit(ts, 0, ring);
    cs->drain(sink, h.ctx());
    CHECK(sink.windows.size() == 1);  // the first copy is written, once
    REQUIRE(cs->faulty());
    CHECK(cs->fault() == "lane 0: ring " + std::to_string(ring) + " submitted while still in the free queue");
  }
  SECTION("never taken: a spare of the initial fill") {
    TestSegment ts;
    auto cs = ts.attach();
    FakeSink sink;
    push_submit(ts, 1, 3);
    cs->drain(sink, h.ctx());
    REQUIRE(cs->faulty());
    CHECK(cs->fault() == "lane 1: ring 3 submitted while still in the free queue");
  }
  SECTION("taken, then the free queue's head moved back over it") {
    TestSegment ts;
    auto cs = ts.attach();
    FakeSink sink;
    const auto ring = ts.submit_window(0, four_events("b", true));
    auto& head = ts.ref().lane(0).free_queue.head;
    head.store(head.load() - 1);
    cs->drain(sink, h.ctx());
    REQUIRE(cs->faulty());
    CHECK(cs->fault() == "lane 0: ring " + std::to_string(ring) + " submitted while still in the free queue");
  }
  CHECK(h.stats.clients_faulty.load() == 1);  // each section: a fresh harness run counts one
}

TEST_CASE("hostile segment: a free queue head moved past its tail makes the client faulty") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(mark_policy()));
  FakeSink sink;
  FreeConsumer fq(&ts.ref().lane(0).free_queue);
  std::uint32_t ring = 0;
  REQUIRE(fq.try_pop(ring) == shm::QueueStatus::ok);
  auto& q = ts.ref().lane(0).free_queue;
  q.head.store(q.tail.load() + 5);
  push_submit(ts, 0, ring);
  cs->drain(sink, h.ctx());
  REQUIRE(cs->faulty());
  CHECK(cs->fault() == "lane 0: free queue positions are impossible");
  CHECK(h.stats.clients_faulty.load() == 1);
}

TEST_CASE("hostile segment: a free queue overflow found while handing a ring back is counted in clients_faulty") {
  // Before: give_back() set the fault directly, so stats said no client was
  // faulty while one had been dropped. 64 rings per lane: the daemon's
  // producer then looks at the client's head when it hands a ring back.
  shm::Geometry g = TestSegment::small_geometry();
  g.lane_count = 1;
  g.rings_per_lane = shm::kMaxRingsPerLane;
  TestSegment ts(g);
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(mark_policy()));
  ts.submit_window(0, four_events("m", true));
  // While the window is being written, the client moves its free queue head
  // back so the queue looks full: the hand-back finds no room.
  MeddlingSink sink([&] {
    auto& q = ts.ref().lane(0).free_queue;
    q.head.store(q.tail.load() - shm::kMaxRingsPerLane);
  });
  cs->drain(sink, h.ctx());
  CHECK(sink.windows == 1);
  REQUIRE(cs->faulty());
  CHECK(cs->fault() == "lane 0: free queue overflow (its head was moved)");
  CHECK(h.stats.clients_faulty.load() == 1);
}

TEST_CASE("hostile segment: rewriting the write-once header after attach makes the client faulty") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(mark_policy()));
  FakeSink sink;
  // What a live client legitimately writes in the header: its counters and
  // the doorbell line. Not a fault.
  ts.ref().header().events_dropped_no_lane.store(7);
  ts.ref().header().doorbell_armed.store(0);
  ts.submit_window(0, four_events("ok", true));
  cs->drain(sink, h.ctx());
  CHECK_FALSE(cs->faulty());
  CHECK(sink.windows.size() == 1);
  // A byte of the write-once part (here the ring size) changed: faulty, and
  // nothing more is read.
  ts.ref().header().ring_size = 1u << 30;
  ts.submit_window(0, four_events("after", true));
  cs->drain(sink, h.ctx());
  REQUIRE(cs->faulty());
  CHECK(cs->fault() == "rewrote the write-once part of its segment header");
  CHECK(sink.windows.size() == 1);
  CHECK(h.stats.clients_faulty.load() == 1);
}

TEST_CASE("hostile segment: corrupt-ring reports are capped per client, not for the whole daemon") {
  // Before: the cap looked at the daemon-wide counter, so after ten corrupt
  // rings from any clients no later client's corrupt ring was ever logged.
  CapturedLog log;
  test::DrainHarness h(MarkingPolicy::build(mark_policy()));
  FakeSink sink;
  TestSegment noisy;
  auto a = noisy.attach(1111);
  for (int i = 0; i < 12; ++i) {
    const auto ring = noisy.submit_window(0, four_events("x"));
    noisy.ref().ring_header(0, ring).committed.store(1u << 30);
    a->drain(sink, h.ctx());
  }
  REQUIRE(h.stats.rings_corrupt.load() == 12);
  TestSegment other;
  auto b = other.attach(2222);
  const auto ring = other.submit_window(0, four_events("y"));
  other.ref().ring_header(0, ring).committed.store(13);
  b->drain(sink, h.ctx());
  CHECK(h.stats.rings_corrupt.load() == 13);
  const std::string text = log.text();
  std::size_t noisy_lines = 0;
  for (std::size_t p = text.find("pid 1111:"); p != std::string::npos; p = text.find("pid 1111:", p + 1)) ++noisy_lines;
  CHECK(noisy_lines == 10);  // capped
  CHECK(text.find("pid 2222: lane 0 ring " + std::to_string(ring)) != std::string::npos);
}

TEST_CASE("hostile segment: a corrupt active ring is counted once, not at every poll") {
  // Before: --flush-after re-read it at every drain (every 50 ms) and counted
  // it corrupt each time, for as long as the client left it so.
  TestSegment ts;
  auto cs = ts.attach();
  auto pc = mark_policy();
  pc.flush_after_ns = 2'000'000'000;
  test::DrainHarness h(MarkingPolicy::build(pc));
  FakeSink sink;
  const auto ring = ts.activate_with(0, four_events("a", true));
  ts.ref().ring_data(0, ring)[11] = 9;  // the first record's level: above fatal
  for (int poll = 0; poll < 5; ++poll) cs->flush_waiting_marks(sink, h.ctx(), 100'000'000'000ull + poll);
  CHECK(h.stats.rings_corrupt.load() == 1);
  CHECK_FALSE(cs->faulty());
  // The writer moves on (committed changes): looked at again.
  ts.append_active(0, four_events("b"));
  cs->flush_waiting_marks(sink, h.ctx(), 200'000'000'000ull);
  CHECK(h.stats.rings_corrupt.load() == 2);
}

TEST_CASE("hostile segment: rings a previous daemon held, reclaimed after a restart, are not taken for duplicates") {
  TestSegment ts;
  test::DrainHarness h(MarkingPolicy::build(mark_policy(1)));
  FakeSink sink;
  const auto held = ts.submit_window(0, four_events("u"));  // held as pre-roll by the first daemon
  {
    auto first = ts.attach();
    first->drain(sink, h.ctx());
    REQUIRE(first->held_windows() == 1);
  }  // dies holding it
  REQUIRE(ts.ref().ring_header(0, held).state.load() == static_cast<std::uint32_t>(shm::RingState::held));
  auto next = ts.attach();
  next->drain(sink, h.ctx());  // reclaims it (holds it again as pre-roll)
  // The client goes on: every other ring, then the reclaimed one once handed back.
  for (int i = 0; i < 8; ++i) {
    ts.submit_window(0, four_events("w" + std::to_string(i), i % 3 == 2));
    next->drain(sink, h.ctx());
    REQUIRE_FALSE(next->faulty());
  }
  CHECK(h.stats.clients_faulty.load() == 0);
  CHECK(sink.windows.size() >= 3);
}
