// Selective persistence on a real segment: the test plays the client
// through the shm primitives, ClientSegment (the daemon's view) drains it,
// and a fake sink captures the windows it keeps.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "storage/atf_sink.hpp"
#include "marking_policy.hpp"
#include "preroll/atf/reader.hpp"
#include "process.hpp"
#include "test_segment.hpp"

using namespace preroll;
using daemon::MarkingPolicy;
using daemon::PolicyConfig;
using test::FakeSink;
using test::TestEvent;
using test::TestSegment;

namespace {

PolicyConfig policy(std::uint32_t pre = 0, std::uint32_t post = 0, bool marking = true) {
  PolicyConfig c;
  c.triggers = {{"MARK", daemon::PatternKind::literal, 1, 0}};
  c.trigger_level = -1;
  c.pre_roll = pre;
  c.post_roll = post;
  c.marking = marking;
  return c;
}

std::vector<TestEvent> window(const std::string& tag, int n = 5, int mark_at = -1) {
  std::vector<TestEvent> v;
  for (int i = 0; i < n; ++i) v.push_back({tag + "-" + std::to_string(i) + (i == mark_at ? " MARK" : "")});
  return v;
}

// Rings of `lane` currently in its free queue (the client's spares).
std::uint32_t spares(const TestSegment& ts, std::uint32_t lane) {
  const auto& q = ts.ref().lane(lane).free_queue;
  return q.tail.load() - q.head.load();
}

}  // namespace

TEST_CASE("ring_not_full__marked_event_seen__then_no_dump") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink sink;
  ts.activate_with(0, window("a", 5, 2));  // a mark in the active, not-full ring
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  CHECK(h.stats.windows_seen.load() == 0);
}

namespace {
// One window of three events at 5000, 6000 (marked) and 7000 ns, drained.
test::CapturedWindow drain_timed_window() {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink sink;
  ts.submit_window(0, {{"first", 2, 0, "t", 5000}, {"MARK", 2, 0, "t", 6000}, {"last", 2, 0, "t", 7000}});
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  return sink.windows[0];
}
}  // namespace

TEST_CASE("new_window__start_timestamp_set__then_tracking_begins") {
  CHECK(drain_timed_window().meta.start_ns == 5000);
}

TEST_CASE("close_window__timestamps_updated__then_dump_ready") {
  const auto w = drain_timed_window();
  CHECK(w.meta.end_ns == 7000);
  CHECK(w.meta.first_marked_ns == 6000);
  CHECK(w.meta.reason == atf::KeepReason::marked);
}

TEST_CASE("window_metadata__calculated_correctly__then_accurate") {
  TestSegment ts;
  ts.ref().lane(1).tid.store(777);
  const auto ring = ts.submit_window(1, {{"x MARK"}, {"y"}, {"MARK z", 2, shm::event_flag::client_marked}});
  ts.ref().ring_header(1, ring).overwritten_events.store(12);
  ts.ref().ring_header(1, ring).overwritten_bytes.store(480);
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink sink;
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  const auto& m = sink.windows[0].meta;
  CHECK(m.lane == 1);
  CHECK(m.tid == 777);
  CHECK(m.event_count == 3);
  CHECK(m.marked_count == 2);
  CHECK(m.lost_events_before == 12);
  CHECK(m.lost_bytes_before == 480);
  REQUIRE(m.patterns.size() == 1);
  CHECK(m.patterns[0].count == 2);
  CHECK((sink.windows[0].flags[2] & atf::event_flags::client_marked) != 0);
}

TEST_CASE("overlapping_windows__boundaries_maintained__then_consistent") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(0, 0, /*marking=*/false)));
  FakeSink sink;
  for (int w = 0; w < 10; ++w) {
    ts.submit_window(0, window("w" + std::to_string(w), 7));
    cs->drain(sink, h.ctx());
  }
  REQUIRE(sink.windows.size() == 10);
  for (std::size_t i = 1; i < sink.windows.size(); ++i) {
    const auto& prev = sink.windows[i - 1].meta;
    const auto& cur = sink.windows[i].meta;
    CHECK(prev.end_ns < cur.start_ns);  // never overlapping
    CHECK(cur.ring_sequence == prev.ring_sequence + 1);  // never a gap unaccounted
    CHECK(cur.lost_events_before == 0);
  }
}

TEST_CASE("state_transitions__concurrent_access__then_consistent") {
  // A client thread keeps submitting while the daemon drains: every ring
  // ends up back in the free queue, nothing is lost or doubled.
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(1, 1)));
  FakeSink sink;
  std::atomic<bool> done{false};
  std::atomic<int> submitted{0};
  std::thread client([&] {
    shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> fq(&ts.ref().lane(0).free_queue);
    shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> sq(&ts.ref().lane(0).submit_queue);
    for (int i = 0; i < 2000; ++i) {
      std::uint32_t ring;
      while (fq.try_pop(ring) != shm::QueueStatus::ok) std::this_thread::yield();
      auto& hdr = ts.ref().ring_header(0, ring);
      const std::string msg = i % 50 == 0 ? "MARK" : "event";
      shm::write_record(ts.ref().ring_data(0, ring), static_cast<std::uint64_t>(i + 1), 2, 0, "c", 1, msg.data(),
                        static_cast<std::uint16_t>(msg.size()));
      hdr.committed.store(shm::record_size(1, static_cast<std::uint32_t>(msg.size())), std::memory_order_release);
      hdr.sequence.store(static_cast<std::uint64_t>(i));
      REQUIRE(sq.try_push(ring) == shm::QueueStatus::ok);
      ++submitted;
    }
    done = true;
  });
  while (!done) cs->drain(sink, h.ctx());
  client.join();
  cs->drain(sink, h.ctx());
  CHECK(h.stats.windows_seen.load() == 2000);
  // 40 marked windows, each with one post-roll, and one pre-roll when held.
  std::size_t marked = 0;
  for (const auto& w : sink.windows) marked += w.meta.reason == atf::KeepReason::marked;
  CHECK(marked == 40);
  CHECK(cs->held_windows() <= 1);
  CHECK(spares(ts, 0) + cs->held_windows() == 4);
  CHECK_FALSE(cs->faulty());
}

TEST_CASE("selective_swap__conditions_met__then_swap_performed") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(2, 0)));
  FakeSink sink;
  ts.submit_window(0, window("m", 3, 1));
  CHECK(spares(ts, 0) == 3);
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.size() == 1);
  CHECK(spares(ts, 0) == 4);  // persisted and handed straight back
}

TEST_CASE("selective_swap__conditions_not_met__then_swap_skipped") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(2, 0)));
  FakeSink sink;
  ts.submit_window(0, window("u1"));
  ts.submit_window(0, window("u2"));
  ts.submit_window(0, window("u3"));
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  CHECK(cs->held_windows() == 2);  // pre-roll: rings kept by the daemon, not handed back
  CHECK(spares(ts, 0) == 2);
  ts.submit_window(0, window("m", 3, 0));
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 3);
  CHECK(sink.windows[0].messages[0] == "u2-0");
  CHECK(sink.windows[0].meta.reason == atf::KeepReason::pre_roll);
  CHECK(sink.windows[1].messages[0] == "u3-0");
  CHECK(sink.windows[2].meta.reason == atf::KeepReason::marked);
  CHECK(spares(ts, 0) == 4);
}

TEST_CASE("pre-roll never holds so many rings that the client runs out of spares") {
  TestSegment ts;  // 4 rings per lane: at most 2 held
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(10, 0)));
  FakeSink sink;
  for (int i = 0; i < 6; ++i) {
    ts.submit_window(0, window("u" + std::to_string(i)));
    cs->drain(sink, h.ctx());
    CHECK(spares(ts, 0) >= 2);
  }
  CHECK(cs->held_windows() == 2);
}

TEST_CASE("post-roll windows follow a marked window, then discarding resumes") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(0, 2)));
  FakeSink sink;
  ts.submit_window(0, window("m", 3, 0));
  cs->drain(sink, h.ctx());
  for (int i = 0; i < 3; ++i) {
    ts.submit_window(0, window("after" + std::to_string(i)));
    cs->drain(sink, h.ctx());
  }
  REQUIRE(sink.windows.size() == 3);
  CHECK(sink.windows[1].meta.reason == atf::KeepReason::post_roll);
  CHECK(sink.windows[2].meta.reason == atf::KeepReason::post_roll);
  CHECK(sink.windows[2].messages[0] == "after1-0");
}

TEST_CASE("swap_failure__state_consistent__then_retry_possible") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink sink;
  sink.fail_next = true;  // the disk refuses the first window
  ts.submit_window(0, window("a", 3, 0));
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  CHECK(h.stats.windows_failed.load() == 1);
  CHECK(spares(ts, 0) == 4);  // the ring went back: the client is not starved
  ts.submit_window(0, window("b", 3, 0));
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  CHECK(sink.windows[0].messages[0] == "b-0 MARK");
  CHECK_FALSE(cs->faulty());
}

TEST_CASE("window_metadata__written_to_atf__then_readable") {
  preroll::test::TempDir dir;
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  {
    daemon::ClientIdentity who{4242, 1000, "test", "test --flag", 1, 2};
    daemon::DaemonStats stats;
    daemon::FileStore store(dir.path(), daemon::StorageConfig{}, stats);
    daemon::AtfSink sink(store, who, h.policy->to_json());
    ts.submit_window(0, window("a", 4, 3));
    cs->drain(sink, h.ctx());
    sink.close();
    REQUIRE(std::filesystem::exists(sink.file()));
    auto reader = atf::Reader::open(sink.file());
    CHECK(reader->header().pid == 4242);
    CHECK(reader->header().policy_json.find("MARK") != std::string::npos);
    atf::ReadWindow w;
    REQUIRE(reader->next(w));
    CHECK(w.meta.event_count == 4);
    CHECK(w.meta.marked_count == 1);
    CHECK(w.meta.reason == atf::KeepReason::marked);
    REQUIRE(w.meta.patterns.size() == 1);
    CHECK(w.events[3].message == "a-3 MARK");
    CHECK(w.events[3].pattern == 1);  // pattern id 0 marked it
    CHECK(w.events[2].pattern == 0);
    CHECK_FALSE(reader->next(w));
    CHECK(reader->status().reason == atf::StopReason::clean_end);
  }
}

TEST_CASE("multiple_windows__sequential_metadata__then_ordered") {
  preroll::test::TempDir dir;
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  daemon::DaemonStats stats;
  daemon::FileStore store(dir.path(), daemon::StorageConfig{}, stats);
  daemon::AtfSink sink(store, {7, 0, "seq", "", 1, 2}, h.policy->to_json());
  for (int i = 0; i < 6; ++i) {
    ts.submit_window(i % 2, window("w" + std::to_string(i), 3, 1));
    cs->drain(sink, h.ctx());
  }
  sink.close();
  auto reader = atf::Reader::open(sink.file());
  atf::ReadWindow w;
  std::uint64_t expected_id = 0;
  while (reader->next(w)) {
    CHECK(w.meta.window_id == expected_id);
    CHECK(w.events[0].message == "w" + std::to_string(expected_id) + "-0");
    ++expected_id;
  }
  CHECK(expected_id == 6);
}

TEST_CASE("full_pipeline__marked_events__then_selective_dumps") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(1, 1)));
  FakeSink sink;
  for (int i = 0; i < 100; ++i) {
    ts.submit_window(0, window("w" + std::to_string(i), 4, i % 25 == 10 ? 2 : -1));
    cs->drain(sink, h.ctx());
  }
  // Marks in windows 10, 35, 60, 85: each kept with one window before and one after.
  REQUIRE(sink.windows.size() == 12);
  for (std::size_t k = 0; k < 4; ++k) {
    const int m = 10 + 25 * static_cast<int>(k);
    CHECK(sink.windows[3 * k].meta.reason == atf::KeepReason::pre_roll);
    CHECK(sink.windows[3 * k].messages[0] == "w" + std::to_string(m - 1) + "-0");
    CHECK(sink.windows[3 * k + 1].meta.reason == atf::KeepReason::marked);
    CHECK(sink.windows[3 * k + 2].meta.reason == atf::KeepReason::post_roll);
    CHECK(sink.windows[3 * k + 2].messages[0] == "w" + std::to_string(m + 1) + "-0");
  }
}

TEST_CASE("continuous_operation__multiple_windows__then_efficient_storage") {
  // 1 marked window in 100, pre-roll 1, post-roll 1: the theoretical ratio
  // is 3/100 of the captured bytes.
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(1, 1)));
  FakeSink sink;
  for (int i = 0; i < 1000; ++i) {
    ts.submit_window(0, window("w" + std::to_string(i), 20, i % 100 == 50 ? 7 : -1));
    cs->drain(sink, h.ctx());
  }
  const double ratio = static_cast<double>(h.stats.bytes_persisted.load()) / h.stats.bytes_seen.load();
  INFO("persisted/captured = " << ratio);
  CHECK(ratio < 0.035);
  CHECK(ratio > 0.025);
}

TEST_CASE("error_conditions__graceful_handling__then_recoverable") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink sink;
  const auto ring = ts.submit_window(0, window("bad", 3, 0));
  ts.ref().ring_header(0, ring).committed.store(1u << 30);  // impossible
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  CHECK(h.stats.rings_corrupt.load() == 1);
  CHECK_FALSE(cs->faulty());  // a corrupt ring is skipped, the client is not dropped
  ts.submit_window(0, window("good", 3, 0));
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  // An out-of-range ring index in the submit queue is a faulty segment.
  shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane> sq(&ts.ref().lane(1).submit_queue);
  REQUIRE(sq.try_push(99) == shm::QueueStatus::ok);
  cs->drain(sink, h.ctx());
  CHECK(cs->faulty());
  CHECK(cs->fault().find("99") != std::string::npos);
}

TEST_CASE("metrics__accurate_counting__then_observable") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(1, 0)));
  FakeSink sink;
  ts.submit_window(0, window("u1"));  // held
  ts.submit_window(0, window("u2"));  // held, u1 dropped
  ts.submit_window(0, window("m", 5, 4));  // u2 as pre-roll, m marked
  cs->drain(sink, h.ctx());
  CHECK(h.stats.windows_seen.load() == 3);
  CHECK(h.stats.windows_held.load() == 2);
  CHECK(h.stats.windows_discarded.load() == 1);
  CHECK(h.stats.windows_persisted.load() == 2);
  CHECK(h.stats.events_seen.load() == 15);
  CHECK(h.stats.events_marked.load() == 1);
  CHECK(h.stats.events_persisted.load() == 10);
  CHECK(h.stats.bytes_persisted.load() < h.stats.bytes_seen.load());
}

TEST_CASE("client exit: a marked active ring is kept with its pre-roll, an unmarked one is not") {
  TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(policy(1, 0)));
  FakeSink sink;
  ts.submit_window(0, window("u"));
  ts.activate_with(0, window("tail", 3, 2));
  ts.activate_with(1, window("quiet", 3));
  cs->drain(sink, h.ctx());
  cs->finalize(sink, h.ctx(), atf::KeepReason::client_exit);
  REQUIRE(sink.windows.size() == 2);
  CHECK(sink.windows[0].meta.reason == atf::KeepReason::pre_roll);
  CHECK(sink.windows[1].meta.reason == atf::KeepReason::client_exit);
  CHECK(sink.windows[1].messages[2] == "tail-2 MARK");
}

TEST_CASE("client crash with on-crash all keeps everything, none keeps nothing") {
  for (const char* mode : {"all", "none"}) {
    TestSegment ts;
    auto cs = ts.attach();
    auto pc = policy(1, 0);
    pc.on_crash = mode;
    test::DrainHarness h(MarkingPolicy::build(pc));
    FakeSink sink;
    ts.submit_window(0, window("held"));
    ts.activate_with(0, window("tail", 3));
    ts.activate_with(1, window("other", 2, 0));
    cs->drain(sink, h.ctx());
    cs->finalize(sink, h.ctx(), atf::KeepReason::client_crash);
    INFO(mode);
    if (std::string(mode) == "all") {
      CHECK(sink.windows.size() == 3);
      for (const auto& w : sink.windows) CHECK(w.meta.reason == atf::KeepReason::client_crash);
    } else {
      CHECK(sink.windows.empty());
    }
  }
}

TEST_CASE("flush-after: a mark in a ring that never fills reaches disk, and the rest is not written twice") {
  TestSegment ts;
  auto cs = ts.attach();
  auto pc = policy(0, 0);
  pc.flush_after_ns = 2'000'000'000;
  test::DrainHarness h(MarkingPolicy::build(pc));
  FakeSink sink;
  ts.activate_with(0, window("a", 4, 1));  // a-1 is marked
  const std::uint64_t t0 = 100'000'000'000;
  cs->flush_waiting_marks(sink, h.ctx(), t0);  // seen, not due yet
  CHECK(sink.windows.empty());
  cs->flush_waiting_marks(sink, h.ctx(), t0 + 1'000'000'000);
  CHECK(sink.windows.empty());
  cs->flush_waiting_marks(sink, h.ctx(), t0 + 2'000'000'000);  // due
  REQUIRE(sink.windows.size() == 1);
  CHECK(sink.windows[0].meta.reason == atf::KeepReason::flush_timeout);
  CHECK(sink.windows[0].messages.size() == 4);
  // The client writes on and the ring is handed over: only the new events
  // are decided (none marked: discarded), none is written twice.
  ts.append_active(0, window("b", 3));
  cs->flush_waiting_marks(sink, h.ctx(), t0 + 9'000'000'000);
  CHECK(sink.windows.size() == 1);
  ts.append_active(0, window("c", 2, 0));
  ts.submit_active(0);
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 2);
  CHECK(sink.windows[1].meta.reason == atf::KeepReason::marked);
  REQUIRE(sink.windows[1].messages.size() == 5);
  CHECK(sink.windows[1].messages[0] == "b-0");
  CHECK(sink.windows[1].messages[4] == "c-1");
}

TEST_CASE("a daemon restarted after writing part of an active ring continues from there") {
  TestSegment ts;
  auto pc = policy(0, 0);
  test::DrainHarness h(MarkingPolicy::build(pc));
  FakeSink first, second;
  ts.activate_with(0, window("a", 3, 2));
  {
    auto cs = ts.attach();
    cs->finalize(first, h.ctx(), atf::KeepReason::daemon_shutdown);
  }
  REQUIRE(first.windows.size() == 1);
  CHECK(first.windows[0].meta.reason == atf::KeepReason::daemon_shutdown);
  auto cs = ts.attach();  // the next daemon
  ts.append_active(0, window("b", 2, 1));
  ts.submit_active(0);
  cs->drain(second, h.ctx());
  REQUIRE(second.windows.size() == 1);
  REQUIRE(second.windows[0].messages.size() == 2);
  CHECK(second.windows[0].messages[0] == "b-0");
}

TEST_CASE("process scope: a marked window also keeps the other threads' overlapping windows") {
  for (const bool process : {false, true}) {
    TestSegment ts;
    auto cs = ts.attach();
    auto pc = policy(1, 0);
    pc.process_scope = process;
    test::DrainHarness h(MarkingPolicy::build(pc));
    FakeSink sink;
    // Lane 1: an unmarked window 1000-1200 (held as pre-roll), then an active
    // ring still being written at 1600-1700.
    ts.submit_window(1, {{"other-held", 2, 0, "t", 1000}, {"other-held-2", 2, 0, "t", 1200}});
    cs->drain(sink, h.ctx());
    ts.activate_with(1, {{"other-active", 2, 0, "t", 1600}, {"other-active-2", 2, 0, "t", 1700}});
    // Lane 0: a marked window spanning 1100-1650.
    ts.submit_window(0, {{"mine", 2, 0, "t", 1100}, {"mine MARK", 2, 0, "t", 1650}});
    cs->drain(sink, h.ctx());
    INFO("scope " << (process ? "process" : "lane"));
    if (!process) {
      REQUIRE(sink.windows.size() == 1);
      CHECK(sink.windows[0].meta.lane == 0);
      continue;
    }
    REQUIRE(sink.windows.size() == 3);
    CHECK(sink.windows[0].meta.reason == atf::KeepReason::marked);
    CHECK(sink.windows[1].meta.reason == atf::KeepReason::process_context);
    CHECK(sink.windows[1].messages[0] == "other-held");
    CHECK(sink.windows[2].meta.reason == atf::KeepReason::process_context);
    CHECK(sink.windows[2].messages[0] == "other-active");
    // When lane 1's ring is handed over later, what was written is not again.
    ts.append_active(1, {{"later MARK"}});
    ts.submit_active(1);
    cs->drain(sink, h.ctx());
    REQUIRE(sink.windows.size() == 4);
    REQUIRE(sink.windows[3].messages.size() == 1);
    CHECK(sink.windows[3].messages[0] == "later MARK");
  }
}

TEST_CASE("a daemon killed after writing a window but before handing its ring back: the next one does not write it again") {
  TestSegment ts;
  test::DrainHarness h(MarkingPolicy::build(policy()));
  FakeSink first, second;
  const auto ring = ts.submit_window(0, window("w", 3, 1));
  {
    auto cs = ts.attach();
    cs->drain(first, h.ctx());
  }
  REQUIRE(first.windows.size() == 1);
  // Replay the crash: the ring back out of the free queue and HELD, as the
  // dead daemon would have left it.
  shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane> fq(&ts.ref().lane(0).free_queue);
  std::uint32_t r = 99;
  while (r != ring) REQUIRE(fq.try_pop(r) == shm::QueueStatus::ok);
  ts.ref().ring_header(0, ring).state.store(static_cast<std::uint32_t>(shm::RingState::held));
  auto next = ts.attach();
  next->drain(second, h.ctx());
  CHECK(second.windows.empty());
  CHECK(ts.ref().ring_header(0, ring).state.load() == static_cast<std::uint32_t>(shm::RingState::free));
}
