// Creating, sealing, checking and mapping a segment's memory.
//
// A segment is an anonymous memfd: it has no name another user could open.
// The client seals it against shrinking and growing before it passes the
// descriptor, and the daemon refuses a descriptor without those seals: a
// client able to shrink the file could make the daemon's reads fault (SIGBUS).
// Mapping goes through Boost.Interprocess mapped_region (MAP_SHARED).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

namespace boost::interprocess {
class mapped_region;
}

namespace preroll::shm {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Creates a memfd of `size` bytes, zero-filled, sealed against shrink, grow
// and further sealing. Throws std::system_error.
UniqueFd create_sealed_memfd(const char* debug_name, std::uint64_t size);

// Checks that `fd` is a regular-file memfd carrying the shrink and grow seals
// and returns its size. Returns an error text for anything else (not a memfd,
// unsealed, empty, larger than max_size).
struct SealCheck {
  bool ok = false;
  std::uint64_t size = 0;
  std::string error;
};
SealCheck check_sealed_memfd(int fd, std::uint64_t max_size);

// A read-write shared mapping of the whole descriptor.
class MappedSegment {
 public:
  MappedSegment() noexcept;
  // Maps `size` bytes of `fd` (MAP_SHARED, read-write). Throws
  // std::system_error (Boost.Interprocess errors are translated).
  MappedSegment(int fd, std::uint64_t size);
  ~MappedSegment();
  MappedSegment(MappedSegment&&) noexcept;
  MappedSegment& operator=(MappedSegment&&) noexcept;

  [[nodiscard]] void* data() const noexcept;
  [[nodiscard]] std::uint64_t size() const noexcept;
  [[nodiscard]] bool mapped() const noexcept { return region_ != nullptr; }
  void unmap() noexcept;

 private:
  std::unique_ptr<boost::interprocess::mapped_region> region_;
};

}  // namespace preroll::shm
