#include "preroll/shm/segment_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <cerrno>
#include <cstring>

namespace preroll::shm {

namespace bip = boost::interprocess;

UniqueFd::~UniqueFd() { reset(); }

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

UniqueFd create_sealed_memfd(const char* debug_name, std::uint64_t size) {
  UniqueFd fd(::memfd_create(debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) throw std::system_error(errno, std::generic_category(), "memfd_create");
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    throw std::system_error(errno, std::generic_category(), "ftruncate(memfd)");
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    throw std::system_error(errno, std::generic_category(), "fcntl(F_ADD_SEALS)");
  return fd;
}

SealCheck check_sealed_memfd(int fd, std::uint64_t max_size) {
  SealCheck r;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    r.error = std::string("fstat failed: ") + std::strerror(errno);
    return r;
  }
  if (!S_ISREG(st.st_mode)) {
    r.error = "descriptor is not a memfd (not a regular file)";
    return r;
  }
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) {
    r.error = "descriptor is not a sealable memfd";
    return r;
  }
  if ((seals & F_SEAL_SHRINK) == 0 || (seals & F_SEAL_GROW) == 0) {
    r.error = "memfd is not sealed against shrink and grow";
    return r;
  }
  if (st.st_size <= 0) {
    r.error = "memfd is empty";
    return r;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    r.error = "segment of " + std::to_string(st.st_size) + " bytes exceeds the limit of " + std::to_string(max_size);
    return r;
  }
  r.ok = true;
  r.size = static_cast<std::uint64_t>(st.st_size);
  return r;
}

namespace {
// Lets mapped_region map a descriptor we already own. mapped_region asks its
// argument for a mapping handle; on POSIX that is the file descriptor.
struct BorrowedFdMappable {
  int fd;
  [[nodiscard]] bip::mapping_handle_t get_mapping_handle() const noexcept {
    return bip::ipcdetail::mapping_handle_from_file_handle(fd);
  }
};
}  // namespace

MappedSegment::MappedSegment(int fd, std::uint64_t size) {
  try {
    region_ = std::make_unique<bip::mapped_region>(BorrowedFdMappable{fd}, bip::read_write, 0,
                                                   static_cast<std::size_t>(size));
  } catch (const bip::interprocess_exception& e) {
    throw std::system_error(e.get_native_error(), std::generic_category(),
                            std::string("mapping segment: ") + e.what());
  }
}

MappedSegment::MappedSegment() noexcept = default;
MappedSegment::~MappedSegment() = default;
MappedSegment::MappedSegment(MappedSegment&&) noexcept = default;
MappedSegment& MappedSegment::operator=(MappedSegment&&) noexcept = default;

void* MappedSegment::data() const noexcept { return region_ ? region_->get_address() : nullptr; }
std::uint64_t MappedSegment::size() const noexcept { return region_ ? region_->get_size() : 0; }
void MappedSegment::unmap() noexcept { region_.reset(); }

}  // namespace preroll::shm
