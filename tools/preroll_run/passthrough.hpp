// Writes the program's output through to one of our own descriptors,
// unchanged. A descriptor that fails (EPIPE: the reader went away; EBADF,
// EIO, ENOSPC...) is given up for the rest of the run: the output is still
// read and captured, so the program never blocks on a full pipe.
#pragma once

#include <string_view>

namespace preroll::run {

class Passthrough {
 public:
  explicit Passthrough(int fd) noexcept : fd_(fd) {}

  // Writes all of `bytes` (retrying partial writes and EINTR, waiting when
  // the descriptor is non-blocking and full). Returns false only on the
  // call that gave the descriptor up; error() then says why.
  bool write(std::string_view bytes) noexcept;

  [[nodiscard]] bool open() const noexcept { return error_ == 0; }
  [[nodiscard]] int error() const noexcept { return error_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
  int error_ = 0;
};

}  // namespace preroll::run
