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

namespace detail {
// Formats into `buf`; returns the bytes kept. A user formatter that throws
// must not escape into the caller: the message is then empty.
template <typename... Args>
std::size_t format_to_buffer(char (&buf)[kFormatBufferSize], fmt::format_string<Args...> format,
                             Args&&... args) noexcept {
  try {
    const auto r = fmt::format_to_n(buf, kFormatBufferSize, format, std::forward<Args>(args)...);
    return std::min(r.size, kFormatBufferSize);
  } catch (...) {
    return 0;
  }
}
}  // namespace detail

// At least one argument: a plain string goes to the string_view overload.
template <typename Arg, typename... Args>
void emit(Level level, std::string_view name, fmt::format_string<Arg, Args...> format, Arg&& arg,
          Args&&... args) noexcept {
  char buf[kFormatBufferSize];
  const std::size_t n = detail::format_to_buffer<Arg, Args...>(buf, format, std::forward<Arg>(arg),
                                                               std::forward<Args>(args)...);
  emit(level, name, std::string_view(buf, n));
}

template <typename Arg, typename... Args>
void mark(std::string_view name, fmt::format_string<Arg, Args...> format, Arg&& arg, Args&&... args) noexcept {
  char buf[kFormatBufferSize];
  const std::size_t n = detail::format_to_buffer<Arg, Args...>(buf, format, std::forward<Arg>(arg),
                                                               std::forward<Args>(args)...);
  mark(name, std::string_view(buf, n));
}

}  // namespace preroll
