// Whether PCRE2 can JIT-compile in this process. Under systemd's
// MemoryDenyWriteExecute=yes (the shipped unit) it cannot: the kernel refuses
// writable+executable memory, pcre2_jit_compile fails and every regex runs
// on PCRE2's interpreter — same answers, slower (docs/operations.md). The
// daemon says so once at startup.
#pragma once

namespace preroll::daemon::systemd {

[[nodiscard]] bool pcre2_jit_usable();

// Logs (info) that regexes run without JIT when pcre2_jit_usable() is false.
void log_jit_availability();

}  // namespace preroll::daemon::systemd
