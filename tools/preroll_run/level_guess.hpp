// Guesses an output line's level from the markers programs commonly print.
//
// Case-sensitive whole words (a word is a run of letters, digits and '_';
// "ERRORS" or "ERROR_CODE" is not "ERROR"):
//
//   fatal  FATAL Fatal CRITICAL CRIT EMERG PANIC, "fatal:" "panic:"
//   error  ERROR Error ERR Traceback, "error:"
//   warn   WARN WARNING Warn Warning, "warning:"
//   debug  DEBUG
//   trace  TRACE
//
// (the lower-case forms count only when ':' follows, as in git's "fatal:",
// gcc's "warning:" or Go's "panic:"). The highest level
// found wins. Two structured forms name the level outright and win over
// words: a key `level`, `lvl` or `severity` followed by `=`, `: ` or `":"`
// and a level name in any case (logfmt `level=warn`, JSON
// `"level":"error"`), and a glog/abseil prefix at the start of the line
// (`E0612 ...` error, `W` warn, `F` fatal, `I` info).
//
// One pass over the line, no allocation.
#pragma once

#include <optional>
#include <string_view>

namespace preroll::run {

// The level (a preroll_level value) the line's markers name, or nullopt.
[[nodiscard]] std::optional<int> guess_level(std::string_view line) noexcept;

// "trace".."fatal" (case-insensitive; also "warning", "err", "critical") to
// a preroll_level value.
[[nodiscard]] std::optional<int> parse_level_name(std::string_view name) noexcept;

}  // namespace preroll::run
