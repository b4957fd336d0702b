#include "level_guess.hpp"

#include <algorithm>
#include <cstddef>

#include "preroll/preroll.h"

namespace preroll::run {

namespace {

constexpr bool is_word(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

struct Marker {
  std::string_view word;
  int level;
  bool needs_colon;  // counts only when ':' follows
};

// Grouped by first letter; the scanner checks a word only against the
// markers of its first letter.
constexpr Marker kMarkers[] = {
    {"CRITICAL", PREROLL_FATAL, false}, {"CRIT", PREROLL_FATAL, false},
    {"DEBUG", PREROLL_DEBUG, false},
    {"EMERG", PREROLL_FATAL, false},    {"ERROR", PREROLL_ERROR, false},    {"Error", PREROLL_ERROR, false},
    {"ERR", PREROLL_ERROR, false},      {"error", PREROLL_ERROR, true},
    {"FATAL", PREROLL_FATAL, false},    {"Fatal", PREROLL_FATAL, false},    {"fatal", PREROLL_FATAL, true},
    {"PANIC", PREROLL_FATAL, false},    {"panic", PREROLL_FATAL, true},
    {"TRACE", PREROLL_TRACE, false},    {"Traceback", PREROLL_ERROR, false},
    {"WARN", PREROLL_WARN, false},      {"WARNING", PREROLL_WARN, false},   {"Warn", PREROLL_WARN, false},
    {"Warning", PREROLL_WARN, false},   {"warning", PREROLL_WARN, true},
};

bool maybe_marker_start(char c) noexcept {
  switch (c) {
    case 'C': case 'D': case 'E': case 'F': case 'P': case 'T': case 'W':
    case 'e': case 'f': case 'p': case 'w': case 'l': case 's':
      return true;
    default:
      return false;
  }
}

// After a level key at `pos`: `=`, `:`, `":"` or `": "` (and optional
// quotes/spaces), then the level name. Returns its level, if one.
std::optional<int> level_after_key(std::string_view line, std::size_t pos) noexcept {
  std::size_t i = pos;
  if (i < line.size() && line[i] == '"') ++i;  // the key's closing quote
  if (i >= line.size() || (line[i] != '=' && line[i] != ':')) return std::nullopt;
  ++i;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size() && (line[i] == '"' || line[i] == '\'')) ++i;
  std::size_t end = i;
  while (end < line.size() && is_word(static_cast<unsigned char>(line[end]))) ++end;
  return parse_level_name(line.substr(i, end - i));
}

// glog/abseil: "E0612 12:34:56.789012 ..." (severity letter, MMDD, space).
std::optional<int> glog_prefix(std::string_view line) noexcept {
  if (line.size() < 6 || line[5] != ' ') return std::nullopt;
  for (std::size_t i = 1; i < 5; ++i)
    if (!is_digit(static_cast<unsigned char>(line[i]))) return std::nullopt;
  switch (line[0]) {
    case 'I': return PREROLL_INFO;
    case 'W': return PREROLL_WARN;
    case 'E': return PREROLL_ERROR;
    case 'F': return PREROLL_FATAL;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<int> parse_level_name(std::string_view n) noexcept {
  if (iequals(n, "trace")) return PREROLL_TRACE;
  if (iequals(n, "debug")) return PREROLL_DEBUG;
  if (iequals(n, "info") || iequals(n, "notice")) return PREROLL_INFO;
  if (iequals(n, "warn") || iequals(n, "warning")) return PREROLL_WARN;
  if (iequals(n, "error") || iequals(n, "err")) return PREROLL_ERROR;
  if (iequals(n, "fatal") || iequals(n, "critical") || iequals(n, "crit") || iequals(n, "panic") ||
      iequals(n, "emerg") || iequals(n, "alert"))
    return PREROLL_FATAL;
  return std::nullopt;
}

std::optional<int> guess_level(std::string_view line) noexcept {
  if (auto g = glog_prefix(line)) return g;
  std::optional<int> found;
  const std::size_t n = line.size();
  std::size_t i = 0;
  while (i < n) {
    // To the start of the next word.
    while (i < n && !is_word(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < n && is_word(static_cast<unsigned char>(line[i]))) ++i;
    if (start == i || !maybe_marker_start(line[start])) continue;
    const std::string_view word = line.substr(start, i - start);
    if (word == "level" || word == "lvl" || word == "severity") {
      if (auto l = level_after_key(line, i)) return l;  // named outright
      continue;
    }
    const bool colon = i < n && line[i] == ':';
    for (const Marker& m : kMarkers) {
      if (m.word[0] != word[0] || m.word != word || (m.needs_colon && !colon)) continue;
      if (!found || m.level > *found) found = m.level;
      break;
    }
  }
  return found;
}

}  // namespace preroll::run
