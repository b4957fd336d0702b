#include "window_selector.hpp"

namespace preroll::daemon {

Decision WindowSelector::count(Decision d) noexcept {
  if (d.persist) {
    marked_since_dump_ = false;
    ++persisted_;
  } else {
    ++discarded_;
  }
  return d;
}

Decision WindowSelector::on_window(bool marking) noexcept {
  if (!marking) return count({true, atf::KeepReason::capture_all});
  return count({marked_since_dump_, atf::KeepReason::marked});
}

Decision WindowSelector::on_final(atf::KeepReason reason, bool marking) noexcept {
  return count({!marking || marked_since_dump_, reason});
}

}  // namespace preroll::daemon
