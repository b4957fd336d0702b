// preroll C++ API: a thin, inline layer over the C API (preroll.h) in the
// idiom of modern C++: string_view in, levels as an enum class.
#pragma once

#include <string_view>

#include "preroll/preroll.h"

namespace preroll {

enum class Level : int {
  trace = PREROLL_TRACE,
  debug = PREROLL_DEBUG,
  info = PREROLL_INFO,
  warn = PREROLL_WARN,
  error = PREROLL_ERROR,
  fatal = PREROLL_FATAL,
};

inline void emit(Level level, std::string_view name, std::string_view message) noexcept {
  preroll_emit_n(static_cast<int>(level), name.data(), name.size(), message.data(), message.size());
}

// An event the client marks itself: its window is kept whatever the policy.
inline void mark(std::string_view name, std::string_view message, Level level = Level::info) noexcept {
  preroll_mark_n(static_cast<int>(level), name.data(), name.size(), message.data(), message.size());
}

inline void flush() noexcept { preroll_flush(); }
inline void shutdown() noexcept { preroll_shutdown(); }

inline preroll_counters counters() noexcept {
  preroll_counters c{};
  preroll_get_counters(&c);
  return c;
}

}  // namespace preroll
