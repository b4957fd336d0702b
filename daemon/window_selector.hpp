// The dump decision for one lane: persist or discard a window (a full or
// handed-over ring), and why. Pure state machine, no I/O, unit-tested alone.
//
// Strict rule (pre-roll = post-roll = 0): persist a window when a marked
// event was seen since the last persisted window — which, since unmarked
// windows are discarded, means the window itself holds a marked event — and
// reset the flag after the dump. Marking off: persist everything.
#pragma once

#include <cstdint>

#include "preroll/atf/types.hpp"

namespace preroll::daemon {

struct Decision {
  bool persist = false;
  atf::KeepReason reason = atf::KeepReason::marked;
};

class WindowSelector {
 public:
  WindowSelector() = default;

  // A marked event was observed in the lane (called while scanning).
  void note_marked() noexcept { marked_since_dump_ = true; }
  [[nodiscard]] bool marked_since_dump() const noexcept { return marked_since_dump_; }

  // Decides for a window handed over because its ring was full or flushed.
  // `marking`: the policy in force has marking on (off: keep everything).
  Decision on_window(bool marking) noexcept;

  // Decides for the committed part of a ring at the end of the client's life
  // (exit, crash) or of the daemon's (shutdown): kept only if marked (or
  // capture-all), with `reason`.
  Decision on_final(atf::KeepReason reason, bool marking) noexcept;

  [[nodiscard]] std::uint64_t persisted() const noexcept { return persisted_; }
  [[nodiscard]] std::uint64_t discarded() const noexcept { return discarded_; }

 private:
  // Books the decision: a dump resets the marked flag.
  Decision count(Decision d) noexcept;

  bool marked_since_dump_ = false;
  std::uint64_t persisted_ = 0;
  std::uint64_t discarded_ = 0;
};

}  // namespace preroll::daemon
