// The dump decision (strict rule, pre-roll = post-roll = 0).
#include <catch2/catch.hpp>

#include "window_selector.hpp"

using preroll::atf::KeepReason;
using preroll::daemon::WindowSelector;

TEST_CASE("ring full, no marked event, then discard and continue") {
  WindowSelector s;
  const auto d = s.on_window(true);
  CHECK_FALSE(d.persist);
  CHECK(s.discarded() == 1);
  CHECK(s.persisted() == 0);
}

TEST_CASE("ring full, marked event seen, then dump with reason marked, and the flag resets") {
  WindowSelector s;
  s.note_marked();
  const auto d = s.on_window(true);
  CHECK(d.persist);
  CHECK(d.reason == KeepReason::marked);
  CHECK_FALSE(s.marked_since_dump());
  CHECK_FALSE(s.on_window(true).persist);  // the next unmarked window is discarded
  CHECK(s.persisted() == 1);
  CHECK(s.discarded() == 1);
}

TEST_CASE("marking off persists every window as capture-all") {
  WindowSelector s;
  for (int i = 0; i < 3; ++i) {
    const auto d = s.on_window(false);
    CHECK(d.persist);
    CHECK(d.reason == KeepReason::capture_all);
  }
}

TEST_CASE("final partial ring is kept only when marked, with the given reason") {
  WindowSelector s;
  CHECK_FALSE(s.on_final(KeepReason::client_crash, true).persist);
  s.note_marked();
  const auto d = s.on_final(KeepReason::client_crash, true);
  CHECK(d.persist);
  CHECK(d.reason == KeepReason::client_crash);
}
