// How many connections the daemon holds, in all and per uid, against a
// total and a per-uid limit: registration connections (--max-clients,
// --max-clients-per-user) and control connections (--max-control-connections,
// --max-control-connections-per-user). Every connection counts from accept
// to close, attached or not: a connection that never sends HELLO or a
// request costs a descriptor too. io thread only.
#pragma once

#include <cstdint>
#include <unordered_map>

namespace preroll::daemon {

class ConnectionLimits {
 public:
  enum class Verdict { admitted, max_clients, per_user };

  // Counts the connection when admitted; the caller then owes one release().
  Verdict admit(std::uint32_t uid, std::uint32_t max_total, std::uint32_t max_per_user) {
    if (total_ >= max_total) return Verdict::max_clients;
    auto& mine = per_uid_[uid];
    if (mine >= max_per_user) {
      if (mine == 0) per_uid_.erase(uid);
      return Verdict::per_user;
    }
    ++mine;
    ++total_;
    return Verdict::admitted;
  }

  void release(std::uint32_t uid) {
    const auto it = per_uid_.find(uid);
    if (it == per_uid_.end() || total_ == 0) return;
    --total_;
    if (--it->second == 0) per_uid_.erase(it);  // the map holds only uids with connections
  }

  [[nodiscard]] std::uint32_t total() const noexcept { return total_; }
  [[nodiscard]] std::uint32_t of(std::uint32_t uid) const {
    const auto it = per_uid_.find(uid);
    return it == per_uid_.end() ? 0 : it->second;
  }

 private:
  std::uint32_t total_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> per_uid_;
};

}  // namespace preroll::daemon
