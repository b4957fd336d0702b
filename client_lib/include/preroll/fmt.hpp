// fmt-style emit for C++: preroll::emit(level, name, "{} took {} ms", what, ms).
//
// Header-only and optional: include it (and link fmt) only if you want it;
// libpreroll itself never links fmt. The message is formatted into a buffer
// on the stack (no heap allocation), then copied into the ring by the regular
// emit; a message longer than the buffer is cut at kFormatBufferSize bytes,
// and, like any message, at the segment's max message size (flagged).
// Format strings are checked at compile time (fmt::format_string).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>

#include "preroll/preroll.hpp"

namespace preroll {

inline constexpr std::size_t kFormatBufferSize = 4096;

// At least one argument: a plain string goes to the string_view overload.
template <typename Arg, typename... Args>
void emit(Level level, std::string_view name, fmt::format_string<Arg, Args...> format, Arg&& arg,
          Args&&... args) noexcept {
  char buf[kFormatBufferSize];
  std::size_t n = 0;
  try {
    const auto r = fmt::format_to_n(buf, sizeof buf, format, std::forward<Arg>(arg), std::forward<Args>(args)...);
    n = std::min(r.size, sizeof buf);
  } catch (...) {
    // A user formatter that throws must not escape into the caller's hot
    // path: keep what the format produced so far (nothing, here).
    n = 0;
  }
  emit(level, name, std::string_view(buf, n));
}

template <typename Arg, typename... Args>
void mark(std::string_view name, fmt::format_string<Arg, Args...> format, Arg&& arg, Args&&... args) noexcept {
  char buf[kFormatBufferSize];
  std::size_t n = 0;
  try {
    const auto r = fmt::format_to_n(buf, sizeof buf, format, std::forward<Arg>(arg), std::forward<Args>(args)...);
    n = std::min(r.size, sizeof buf);
  } catch (...) {
    n = 0;
  }
  mark(name, std::string_view(buf, n));
}

}  // namespace preroll
