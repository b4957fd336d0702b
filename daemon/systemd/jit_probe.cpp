#include "systemd/jit_probe.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <spdlog/spdlog.h>

namespace preroll::daemon::systemd {

bool pcre2_jit_usable() {
  std::uint32_t built_with_jit = 0;
  if (pcre2_config(PCRE2_CONFIG_JIT, &built_with_jit) < 0 || built_with_jit == 0) return false;
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>("a+b"), PCRE2_ZERO_TERMINATED, 0, &error, &offset, nullptr);
  if (code == nullptr) return false;
  const bool ok = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  pcre2_code_free(code);
  return ok;
}

void log_jit_availability() {
  if (pcre2_jit_usable()) return;
  spdlog::info("PCRE2 JIT unavailable (no JIT in this PCRE2 build, or writable+executable memory refused, as by "
               "MemoryDenyWriteExecute=yes): regex triggers run on PCRE2's interpreter");
}

}  // namespace preroll::daemon::systemd
