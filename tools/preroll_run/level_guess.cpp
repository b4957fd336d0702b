#include "level_guess.hpp"

#include <algorithm>
#include <cstddef>

#include "preroll/preroll.h"

namespace preroll::run {

namespace {

// Byte classes: one table load a byte in the scanning loops.
enum : unsigned char { kWordChar = 1, kUpper = 2, kPunct = 4 };
struct ClassTable {
  unsigned char c[256] = {};
  constexpr ClassTable() {
    for (int i = 'a'; i <= 'z'; ++i) c[i] = kWordChar;
    for (int i = 'A'; i <= 'Z'; ++i) c[i] = kWordChar | kUpper;
    for (int i = '0'; i <= '9'; ++i) c[i] = kWordChar;
    c[static_cast<unsigned char>('_')] = kWordChar;
    c[static_cast<unsigned char>(':')] = c[static_cast<unsigned char>('=')] = c[static_cast<unsigned char>('"')] = kPunct;
  }
};
constexpr ClassTable kClass;

constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }
constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

// A word starting with an upper-case letter: its level, if it is a marker.
std::optional<int> upper_marker(std::string_view w) noexcept {
  switch (w.size()) {
    case 3:
      if (w == "ERR") return PREROLL_ERROR;
      break;
    case 4:
      if (w == "WARN" || w == "Warn") return PREROLL_WARN;
      if (w == "CRIT") return PREROLL_FATAL;
      break;
    case 5:
      if (w == "ERROR" || w == "Error") return PREROLL_ERROR;
      if (w == "FATAL" || w == "Fatal" || w == "PANIC" || w == "EMERG") return PREROLL_FATAL;
      if (w == "DEBUG") return PREROLL_DEBUG;
      if (w == "TRACE") return PREROLL_TRACE;
      break;
    case 7:
      if (w == "WARNING" || w == "Warning") return PREROLL_WARN;
      break;
    case 8:
      if (w == "CRITICAL") return PREROLL_FATAL;
      break;
    case 9:
      if (w == "Traceback") return PREROLL_ERROR;
      break;
    default:
      break;
  }
  return std::nullopt;
}

// A lower-case word followed by ':'.
std::optional<int> colon_marker(std::string_view w) noexcept {
  if (w == "error") return PREROLL_ERROR;
  if (w == "fatal" || w == "panic") return PREROLL_FATAL;
  if (w == "warning") return PREROLL_WARN;
  return std::nullopt;
}

// After a level key ending at `pos`: `=`, `:`, `":"` or `": "` (and
// optional quotes/spaces), then the level name. Returns its level, if one.
std::optional<int> level_after_key(std::string_view line, std::size_t pos) noexcept {
  std::size_t i = pos;
  if (i < line.size() && line[i] == '"') ++i;  // the key's closing quote
  if (i >= line.size() || (line[i] != '=' && line[i] != ':')) return std::nullopt;
  ++i;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i < line.size() && (line[i] == '"' || line[i] == '\'')) ++i;
  std::size_t end = i;
  while (end < line.size() && (kClass.c[static_cast<unsigned char>(line[end])] & kWordChar) != 0) ++end;
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

// One pass, one table load a byte; only upper-case letters and ':', '=',
// '"' (rare in most output, and where every marker starts or ends) lead to
// any comparison: an upper-case letter that starts a word is compared with
// the upper-case markers, the word before a ':', '=' or '"' with the
// lower-case markers and level keys (by length first).
std::optional<int> guess_level(std::string_view line) noexcept {
  if (auto g = glog_prefix(line)) return g;
  std::optional<int> found;
  const auto* const s = reinterpret_cast<const unsigned char*>(line.data());
  const std::size_t n = line.size();
  const auto is_word = [](unsigned char c) { return (kClass.c[c] & kWordChar) != 0; };
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char cls = kClass.c[s[i]];
    if ((cls & (kUpper | kPunct)) == 0) continue;
    std::optional<int> level;
    if ((cls & kUpper) != 0) {
      if (i > 0 && is_word(s[i - 1])) continue;  // inside a word
      std::size_t j = i + 1;
      while (j < n && is_word(s[j])) ++j;
      level = upper_marker(line.substr(i, j - i));
      i = j - 1;
    } else {
      // The word just before: at most 8 bytes ("severity"), lower-case.
      std::size_t k = i;
      while (k > 0 && i - k <= 8 && is_word(s[k - 1])) --k;
      if (k == i || (k > 0 && is_word(s[k - 1]))) continue;
      const std::string_view word = line.substr(k, i - k);
      if (word == "level" || word == "lvl" || word == "severity") {
        if (auto l = level_after_key(line, i)) return l;  // named outright
        continue;
      }
      if (s[i] == ':') level = colon_marker(word);
    }
    if (level && (!found || *level > *found)) found = level;
  }
  return found;
}

}  // namespace preroll::run
