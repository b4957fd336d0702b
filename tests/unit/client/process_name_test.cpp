// PREROLL_PROCESS_NAME names the process in its segment header (which the
// daemon puts in file names and listings) instead of /proc/self/comm.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "runtime.hpp"

using namespace preroll;

namespace {

// Sets (or unsets, with nullptr) a variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A runtime of its own (not the process's), as the first event would create
// it; its header as a string.
std::string header_name_of_new_runtime() {
  ScopedEnv socket("PREROLL_SOCKET", "/nonexistent/preroll-test.sock");
  shm::Geometry g;
  g.lane_count = 1;
  g.rings_per_lane = 2;
  g.ring_size = 4096;
  g.max_message_size = 512;
  client::Runtime rt(g, 1);
  const char* n = rt.segment().header().process_name;
  // NUL padded to the end of the field.
  for (std::size_t i = ::strnlen(n, shm::kProcessNameSize); i < shm::kProcessNameSize; ++i) REQUIRE(n[i] == '\0');
  return std::string(n, ::strnlen(n, shm::kProcessNameSize));
}

std::string comm() {
  char buf[64] = {};
  FILE* f = std::fopen("/proc/self/comm", "re");
  REQUIRE(f != nullptr);
  REQUIRE(std::fgets(buf, sizeof buf, f) != nullptr);
  std::fclose(f);
  std::string s = buf;
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("PREROLL_PROCESS_NAME names the segment instead of the kernel's process name") {
  {
    ScopedEnv name("PREROLL_PROCESS_NAME", "tar");
    CHECK(header_name_of_new_runtime() == "tar");
  }
  {
    // Longer than the field: the first 63 bytes, NUL-terminated.
    const std::string long_name(100, 'n');
    ScopedEnv name("PREROLL_PROCESS_NAME", long_name.c_str());
    CHECK(header_name_of_new_runtime() == long_name.substr(0, shm::kProcessNameSize - 1));
  }
  const std::string kernel_name = comm();
  REQUIRE_FALSE(kernel_name.empty());
  {
    ScopedEnv name("PREROLL_PROCESS_NAME", "");  // set but empty: as if unset
    CHECK(header_name_of_new_runtime() == kernel_name);
  }
  {
    ScopedEnv name("PREROLL_PROCESS_NAME", nullptr);
    CHECK(header_name_of_new_runtime() == kernel_name);
  }
}
