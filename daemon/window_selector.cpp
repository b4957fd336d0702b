#include "window_selector.hpp"

namespace preroll::daemon {

Decision WindowSelector::on_window() noexcept {
  Decision d;
  if (!marking_) {
    d.persist = true;
    d.reason = atf::KeepReason::capture_all;
  } else if (marked_since_dump_) {
    d.persist = true;
    d.reason = atf::KeepReason::marked;
  }
  if (d.persist) {
    marked_since_dump_ = false;
    ++persisted_;
  } else {
    ++discarded_;
  }
  return d;
}

Decision WindowSelector::on_final(atf::KeepReason reason) noexcept {
  Decision d;
  d.persist = !marking_ || marked_since_dump_;
  d.reason = reason;
  if (d.persist) {
    marked_since_dump_ = false;
    ++persisted_;
  } else {
    ++discarded_;
  }
  return d;
}

}  // namespace preroll::daemon
