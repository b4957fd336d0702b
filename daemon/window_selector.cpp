#include "window_selector.hpp"

namespace preroll::daemon {

Decision WindowSelector::count(Decision d) noexcept {
  switch (d.action) {  // GCOVR_EXCL_BR_LINE: the cases are every Action; the compiler's default edge is unreachable
    case Decision::Action::persist:
      ++persisted_;
      break;
    case Decision::Action::hold:
      ++held_;
      break;
    case Decision::Action::discard:
      ++discarded_;
      break;
  }
  marked_since_dump_ = false;  // the window that carried it has been decided
  return d;
}

Decision WindowSelector::on_window(const SelectionPolicy& policy, std::size_t held) noexcept {
  Decision d;
  if (!policy.marking) {
    d.action = Decision::Action::persist;
    d.reason = atf::KeepReason::capture_all;
    d.release_held = held != 0;  // held under an earlier policy: keep the order
    return count(d);
  }
  if (marked_since_dump_) {
    d.action = Decision::Action::persist;
    d.reason = atf::KeepReason::marked;
    d.release_held = held != 0;
    post_roll_left_ = policy.post_roll;
    return count(d);
  }
  if (post_roll_left_ != 0) {
    --post_roll_left_;
    d.action = Decision::Action::persist;
    d.reason = atf::KeepReason::post_roll;
    return count(d);
  }
  if (policy.pre_roll != 0) {
    d.action = Decision::Action::hold;
    d.reason = atf::KeepReason::pre_roll;
    d.drop_oldest_held = held >= policy.pre_roll;
    return count(d);
  }
  return count(d);  // discard
}

Decision WindowSelector::on_final(atf::KeepReason reason, const SelectionPolicy& policy, std::size_t held) noexcept {
  Decision d;
  d.reason = reason;
  const bool crash = reason == atf::KeepReason::client_crash;
  if (crash && policy.on_crash == OnCrash::none) return count(d);
  const bool keep_all = !policy.marking || (crash && policy.on_crash == OnCrash::all);
  if (keep_all || marked_since_dump_ || post_roll_left_ != 0) {
    d.action = Decision::Action::persist;
    if (!keep_all && !marked_since_dump_) {
      --post_roll_left_;
      d.reason = atf::KeepReason::post_roll;
    }
    d.release_held = held != 0 && (keep_all || marked_since_dump_);
    d.held_reason = keep_all ? reason : atf::KeepReason::pre_roll;
    return count(d);
  }
  return count(d);  // discard
}

}  // namespace preroll::daemon
