#include "systemd/journal_log.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <spdlog/pattern_formatter.h>

namespace preroll::daemon::systemd {

namespace {
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char* p = journal_priority(msg.level);
    dest.append(p, p + 3);
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};
}  // namespace

bool is_journal_stream(int fd) {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  std::uintmax_t dev = 0, ino = 0;
  if (std::sscanf(env, "%ju:%ju", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uintmax_t>(st.st_dev) == dev && static_cast<std::uintmax_t>(st.st_ino) == ino;
}

const char* journal_priority(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return SD_DEBUG;
    case spdlog::level::info: return SD_INFO;
    case spdlog::level::warn: return SD_WARNING;
    case spdlog::level::err: return SD_ERR;
    case spdlog::level::critical: return SD_CRIT;
    default: return SD_INFO;
  }
}

std::unique_ptr<spdlog::formatter> journal_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<PriorityFlag>('*').set_pattern("%*%l: %v");
  return f;
}

}  // namespace preroll::daemon::systemd
