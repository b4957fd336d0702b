// The dump decision as a pure state machine: strict rule, pre-roll,
// post-roll, marking off, and the end of a client.
#include <catch2/catch.hpp>

#include "window_selector.hpp"

using preroll::atf::KeepReason;
using preroll::daemon::Decision;
using preroll::daemon::OnCrash;
using preroll::daemon::SelectionPolicy;
using preroll::daemon::WindowSelector;

namespace {
SelectionPolicy strict() { return {true, 0, 0, OnCrash::marked}; }
SelectionPolicy rolls(std::uint32_t pre, std::uint32_t post) { return {true, pre, post, OnCrash::marked}; }
}  // namespace

TEST_CASE("ring_full__no_marked_event__then_discard_and_continue") {
  WindowSelector s;
  const auto d = s.on_window(strict(), 0);
  CHECK(d.action == Decision::Action::discard);
  CHECK(s.discarded() == 1);
  CHECK(s.persisted() == 0);
  CHECK(s.on_window(strict(), 0).action == Decision::Action::discard);  // and again: capture continues
}

TEST_CASE("ring_full__marked_event_seen__then_dump_triggered") {
  WindowSelector s;
  s.note_marked();
  const auto d = s.on_window(strict(), 0);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::marked);
  CHECK(s.persisted() == 1);
}

TEST_CASE("marked_flag__after_dump__then_reset") {
  WindowSelector s;
  s.note_marked();
  REQUIRE(s.on_window(strict(), 0).persist());
  CHECK_FALSE(s.marked_since_dump());
  CHECK_FALSE(s.on_window(strict(), 0).persist());  // the next unmarked window is discarded
}

TEST_CASE("pre-roll: unmarked windows are held, the oldest dropped beyond N, all released before a mark") {
  WindowSelector s;
  auto d = s.on_window(rolls(2, 0), 0);
  CHECK(d.action == Decision::Action::hold);
  CHECK_FALSE(d.drop_oldest_held);
  d = s.on_window(rolls(2, 0), 1);
  CHECK(d.action == Decision::Action::hold);
  CHECK_FALSE(d.drop_oldest_held);
  d = s.on_window(rolls(2, 0), 2);
  CHECK(d.action == Decision::Action::hold);
  CHECK(d.drop_oldest_held);
  s.note_marked();
  d = s.on_window(rolls(2, 0), 2);
  CHECK(d.persist());
  CHECK(d.release_held);
  CHECK(d.held_reason == KeepReason::pre_roll);
}

TEST_CASE("post-roll: the M windows after a marked one are kept, a new mark restarts the count") {
  WindowSelector s;
  s.note_marked();
  REQUIRE(s.on_window(rolls(0, 2), 0).persist());
  auto d = s.on_window(rolls(0, 2), 0);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::post_roll);
  s.note_marked();
  CHECK(s.on_window(rolls(0, 2), 0).reason == KeepReason::marked);
  CHECK(s.on_window(rolls(0, 2), 0).reason == KeepReason::post_roll);
  CHECK(s.on_window(rolls(0, 2), 0).reason == KeepReason::post_roll);
  CHECK_FALSE(s.on_window(rolls(0, 2), 0).persist());
}

TEST_CASE("marking off persists every window as capture-all") {
  WindowSelector s;
  SelectionPolicy off{false, 3, 3, OnCrash::marked};
  for (int i = 0; i < 3; ++i) {
    const auto d = s.on_window(off, 0);
    CHECK(d.persist());
    CHECK(d.reason == KeepReason::capture_all);
  }
}

TEST_CASE("final partial ring is kept only when marked, with the given reason, per the crash policy") {
  WindowSelector s;
  CHECK_FALSE(s.on_final(KeepReason::client_crash, strict(), 0).persist());
  s.note_marked();
  auto d = s.on_final(KeepReason::client_crash, strict(), 1);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::client_crash);
  CHECK(d.release_held);
  s.note_marked();
  CHECK_FALSE(s.on_final(KeepReason::client_crash, {true, 0, 0, OnCrash::none}, 0).persist());
  d = s.on_final(KeepReason::client_crash, {true, 0, 0, OnCrash::all}, 2);
  CHECK(d.persist());
  CHECK(d.release_held);
  CHECK(d.held_reason == KeepReason::client_crash);
  CHECK_FALSE(s.on_final(KeepReason::client_exit, {true, 0, 0, OnCrash::all}, 0).persist());
}

TEST_CASE("final partial ring after a marked window: kept as post-roll while post-roll is left, held windows stay held") {
  WindowSelector s;
  s.note_marked();
  CHECK(s.on_window(rolls(2, 2), 0).persist());  // the marked window: post-roll of 2 starts
  REQUIRE(s.post_roll_left() == 2);
  // The client exits; nothing marked since: the partial ring is post-roll.
  // One window is held back (pre-roll of nothing marked): it is not released.
  const Decision d = s.on_final(KeepReason::client_exit, rolls(2, 2), 1);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::post_roll);
  CHECK_FALSE(d.release_held);
  CHECK(d.held_reason == KeepReason::pre_roll);
  CHECK(s.post_roll_left() == 1);
  CHECK(s.persisted() == 2);
}

TEST_CASE("final partial ring, marked, with windows held: kept with its reason and the held ones released as pre-roll") {
  WindowSelector s;
  CHECK(s.on_window(rolls(2, 0), 0).action == Decision::Action::hold);
  s.note_marked();
  const Decision d = s.on_final(KeepReason::daemon_shutdown, rolls(2, 0), 1);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::daemon_shutdown);
  CHECK(d.release_held);
  CHECK(d.held_reason == KeepReason::pre_roll);
  CHECK_FALSE(s.marked_since_dump());
  CHECK(s.held() == 1);
  CHECK(s.persisted() == 1);
}

TEST_CASE("final partial ring with marking off: kept with its reason, held windows released with the same reason") {
  WindowSelector s;
  const SelectionPolicy off{false, 2, 0, OnCrash::none};
  Decision d = s.on_final(KeepReason::client_exit, off, 2);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::client_exit);
  CHECK(d.release_held);
  CHECK(d.held_reason == KeepReason::client_exit);
  d = s.on_final(KeepReason::client_exit, off, 0);
  CHECK(d.persist());
  CHECK_FALSE(d.release_held);
}

TEST_CASE("final partial ring of a crashed client: --on-crash marked keeps it only when marked") {
  WindowSelector s;
  const SelectionPolicy marked_only{true, 0, 0, OnCrash::marked};
  CHECK(s.on_final(KeepReason::client_crash, marked_only, 0).action == Decision::Action::discard);
  s.note_marked();
  const Decision d = s.on_final(KeepReason::client_crash, marked_only, 0);
  CHECK(d.persist());
  CHECK(d.reason == KeepReason::client_crash);
  CHECK_FALSE(d.release_held);
  CHECK(s.discarded() == 1);
  CHECK(s.persisted() == 1);
}
