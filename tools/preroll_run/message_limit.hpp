// The longest message the client library keeps whole in this process, so
// that long lines are cut into events of at most that size instead of being
// truncated by the library.
#pragma once

#include <cstdint>

namespace preroll::run {

// The library's default limit (preroll.h).
inline constexpr std::uint32_t kDefaultMaxMessage = 4096;

// The PREROLL_* variables the library's geometry comes from (nullptr: unset).
struct GeometryEnv {
  const char* max_message = nullptr;
  const char* ring_size = nullptr;
  const char* lanes = nullptr;
  const char* rings_per_lane = nullptr;
};

// What the library will use given these variables, by its rules (runtime.cpp,
// check_geometry): the configured or default limit; the default lowered for
// small rings so that a record with the longest name fits a quarter ring;
// and, when any value is invalid, all of them ignored (the defaults: 4096).
// Never above what the library keeps.
[[nodiscard]] std::uint32_t library_message_limit(const GeometryEnv& env) noexcept;

// The same from this process's environment.
[[nodiscard]] std::uint32_t library_message_limit();

}  // namespace preroll::run
