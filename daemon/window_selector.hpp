// The dump decision for one lane: persist, hold (pre-roll) or discard each
// window (a full or handed-over ring), and why. Pure state machine, no I/O,
// unit-tested alone; ClientSegment carries out what it decides.
//
// Strict rule (pre-roll = post-roll = 0): persist a window when a marked
// event was seen since the last persisted window — which, since unmarked
// windows are discarded, means the window itself holds a marked event — and
// reset the flag after the dump. With pre-roll P, up to P unmarked windows
// are held back and written before the next marked window (oldest first);
// with post-roll Q, the Q windows after a marked one are written too.
// Marking off: persist everything.
#pragma once

#include <cstddef>
#include <cstdint>

#include "preroll/atf/types.hpp"

namespace preroll::daemon {

enum class OnCrash : std::uint8_t { marked, all, none };

// The parts of the policy that decide windows (reloadable with it).
struct SelectionPolicy {
  bool marking = true;
  std::uint32_t pre_roll = 0;   // already capped so the client keeps spare rings
  std::uint32_t post_roll = 0;
  OnCrash on_crash = OnCrash::marked;
  bool process_scope = false;
};

struct Decision {
  enum class Action : std::uint8_t { persist, hold, discard };
  Action action = Action::discard;
  atf::KeepReason reason = atf::KeepReason::marked;
  bool release_held = false;      // write every held window first, oldest first
  atf::KeepReason held_reason = atf::KeepReason::pre_roll;
  bool drop_oldest_held = false;  // hand the oldest held window back before holding this one
  [[nodiscard]] bool persist() const noexcept { return action == Action::persist; }
};

class WindowSelector {
 public:
  // A marked event was observed in the window being decided.
  void note_marked() noexcept { marked_since_dump_ = true; }
  [[nodiscard]] bool marked_since_dump() const noexcept { return marked_since_dump_; }
  [[nodiscard]] std::uint32_t post_roll_left() const noexcept { return post_roll_left_; }

  // Decides for a window handed over because its ring was full or flushed;
  // `held` windows are currently held back for this lane.
  Decision on_window(const SelectionPolicy& policy, std::size_t held) noexcept;

  // Decides for what is left at the end of the client's attachment (exit,
  // crash) or of the daemon (shutdown): the committed part of the active
  // ring, kept with `reason` when marked (or per --on-crash for a crash).
  Decision on_final(atf::KeepReason reason, const SelectionPolicy& policy, std::size_t held) noexcept;

  [[nodiscard]] std::uint64_t persisted() const noexcept { return persisted_; }
  [[nodiscard]] std::uint64_t discarded() const noexcept { return discarded_; }
  [[nodiscard]] std::uint64_t held() const noexcept { return held_; }

 private:
  // Books the decision: a dump of a marked window resets the marked flag.
  Decision count(Decision d) noexcept;

  bool marked_since_dump_ = false;
  std::uint32_t post_roll_left_ = 0;
  std::uint64_t persisted_ = 0;
  std::uint64_t discarded_ = 0;
  std::uint64_t held_ = 0;
};

}  // namespace preroll::daemon
