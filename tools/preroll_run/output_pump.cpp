#include "output_pump.hpp"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>

#include "level_guess.hpp"
#include "preroll/preroll.h"

namespace preroll::run {

namespace {

constexpr std::size_t kReadSize = 64 * 1024;  // a default pipe's capacity
// After the drain time, what the pipes still hold is read up to this much.
constexpr int kFinalReads = 64;

void note(int level, const std::string& text) {
  preroll_emit_n(level, "preroll-run", 11, text.data(), text.size());
}

}  // namespace

OutputStream::OutputStream(const char* event_name, int read_fd, int out_fd, int default_level, const PumpOptions& o)
    : name_(event_name),
      name_len_(std::strlen(event_name)),
      fd_(read_fd),
      out_(out_fd),
      splitter_(o.max_piece),
      default_level_(default_level),
      guess_(o.guess_levels) {}

OutputStream::~OutputStream() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputStream::record(const Piece& p) {
  if (!p.continues_line) line_guess_.reset();
  if (guess_) {
    if (const auto g = guess_level(p.bytes); g && (!line_guess_ || *g > *line_guess_)) line_guess_ = g;
  }
  preroll_emit_n(line_guess_.value_or(default_level_), name_, name_len_, p.bytes.data(), p.bytes.size());
}

void OutputStream::handle(std::string_view bytes) {
  // Through first: the terminal sees output as soon as it is read.
  if (!out_.write(bytes))
    note(PREROLL_WARN, std::string(name_) + " passthrough stopped: " + std::strerror(out_.error()) +
                           " (the output is still read and recorded)");
  splitter_.feed(bytes, [this](const Piece& p) { record(p); });
}

bool OutputStream::read_once(char* buf, std::size_t size) {
  if (!open_) return false;
  const ssize_t n = ::read(fd_, buf, size);
  if (n > 0) {
    handle(std::string_view(buf, static_cast<std::size_t>(n)));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  close();  // end of stream (or a read error, which ends it too)
  return false;
}

void OutputStream::drain_and_close(char* buf, std::size_t size) {
  for (int i = 0; i < kFinalReads && open_; ++i) {
    const ssize_t n = ::read(fd_, buf, size);
    if (n > 0) {
      handle(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close();
}

void OutputStream::close() {
  if (!open_) return;
  splitter_.finish([this](const Piece& p) { record(p); });
  ::close(fd_);
  fd_ = -1;
  open_ = false;
}

void pump_until_exit(ChildProcess& child, const SignalRelay& relay, const PumpOptions& o) {
  static char buf[kReadSize];
  OutputStream streams[2] = {{"stdout", child.take_stdout_fd(), STDOUT_FILENO, o.stdout_level, o},
                             {"stderr", child.take_stderr_fd(), STDERR_FILENO, o.stderr_level, o}};
  using clock = std::chrono::steady_clock;
  std::optional<clock::time_point> drain_deadline;
  const auto note_exit = [&] {
    if (!drain_deadline && child.exited())
      drain_deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                          std::chrono::duration<double>(o.drain_seconds.value_or(0)));
  };
  child.try_reap();
  note_exit();

  while (streams[0].is_open() || streams[1].is_open()) {
    int timeout_ms = -1;
    if (child.exited() && (o.drain_seconds || relay.stop_request() != 0)) {
      const auto left = *drain_deadline - clock::now();
      if (relay.stop_request() != 0 || left <= clock::duration::zero()) {
        // Left-behind processes still hold the pipes: take what is there
        // and stop (they get EPIPE or SIGPIPE from now on).
        for (auto& s : streams) s.drain_and_close(buf, sizeof buf);
        break;
      }
      timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {relay.wake_fd(), POLLIN, 0};
    int slot[2] = {-1, -1};
    for (int i = 0; i < 2; ++i)
      if (streams[i].is_open()) {
        slot[i] = static_cast<int>(n);
        fds[n++] = {streams[i].fd(), POLLIN, 0};
      }
    const int r = ::poll(fds, n, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    if (fds[0].revents != 0) {
      relay.clear_wake();
      child.try_reap();
      note_exit();
    }
    // One read per ready stream per round: neither starves the other.
    for (int i = 0; i < 2; ++i)
      if (slot[i] >= 0 && fds[slot[i]].revents != 0) streams[i].read_once(buf, sizeof buf);
  }
  for (auto& s : streams) s.close();
  child.reap();
}

}  // namespace preroll::run
