#include "passthrough.hpp"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

namespace preroll::run {

bool Passthrough::write(std::string_view bytes) noexcept {
  if (error_ != 0) return true;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone else's non-blocking descriptor (a shared terminal): wait
      // for room as a blocking write would.
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) {
        error_ = errno;
        return false;
      }
      continue;
    }
    error_ = n < 0 ? errno : EIO;  // write() returning 0 for a non-empty buffer: give up
    return false;
  }
  return true;
}

}  // namespace preroll::run
