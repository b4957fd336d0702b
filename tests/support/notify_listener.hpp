// Test support: what systemd's notification socket would receive. Binds an
// AF_UNIX datagram socket (give its path to the daemon as NOTIFY_SOCKET) and
// records every message sd_notify sends: one datagram, newline-separated
// assignments ("READY=1\nSTATUS=..."). Waits poll() the socket with a
// deadline; no sleeps.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace preroll::test {

class NotifyListener {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  explicit NotifyListener(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.native().size() >= sizeof addr.sun_path) throw std::runtime_error("notify socket: bad path");
    std::memcpy(addr.sun_path, path_.c_str(), path_.native().size());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("notify socket: bind " + path_.string() + ": " + std::strerror(errno));
  }
  ~NotifyListener() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  [[nodiscard]] std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }

  // Whether `message` holds the assignment `key`: the whole line
  // ("READY=1"), or any value when `key` ends in '=' ("STATUS=").
  static bool has(const std::string& message, const std::string& key) {
    std::istringstream in(message);
    for (std::string line; std::getline(in, line);) {
      if (line == key) return true;
      if (!key.empty() && key.back() == '=' && line.rfind(key, 0) == 0) return true;
    }
    return false;
  }
  // The value of `key` ("STATUS") in `message`, "" when absent.
  static std::string value(const std::string& message, const std::string& key) {
    std::istringstream in(message);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    return {};
  }

  // Index of the first message at or after `from` that has `key`, else npos.
  [[nodiscard]] std::size_t find(const std::string& key, std::size_t from = 0) const {
    for (std::size_t i = from; i < messages_.size(); ++i)
      if (has(messages_[i], key)) return i;
    return npos;
  }
  [[nodiscard]] std::size_t count(const std::string& key, std::size_t from = 0) const {
    std::size_t n = 0;
    for (std::size_t i = from; i < messages_.size(); ++i) n += has(messages_[i], key) ? 1 : 0;
    return n;
  }
  [[nodiscard]] const std::vector<std::string>& messages() const { return messages_; }
  [[nodiscard]] std::string transcript() const {
    std::string t;
    for (std::size_t i = 0; i < messages_.size(); ++i) t += "[" + std::to_string(i) + "] " + messages_[i] + "\n";
    return t;
  }

  // Receives until `cond()` holds or `timeout` passes; returns cond().
  bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      receive_pending();
      if (cond()) return true;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
    }
  }
  // Waits for a message at or after `from` with `key`; returns its index or npos.
  std::size_t wait_for(const std::string& key, std::chrono::milliseconds timeout, std::size_t from = 0) {
    wait_until([&] { return find(key, from) != npos; }, timeout);
    return find(key, from);
  }

  // Appends whatever has arrived, without waiting.
  void receive_pending() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) return;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace preroll::test
