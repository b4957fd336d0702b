// What the Hyperscan path needs to know about a pattern's text. Internal to
// preroll_matching; pure functions, no Hyperscan types.
#pragma once

#include "pattern_matcher.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace preroll::daemon::matching_detail {

// The two fields of an event a pattern may look at.
enum class Part : std::uint8_t { name, message };

[[nodiscard]] inline bool field_allows(PatternField f, Part part) noexcept {
  return f == PatternField::any || (f == PatternField::name) == (part == Part::name);
}

// `text` as a Hyperscan expression matching exactly those bytes: letters and
// digits kept, every other byte written \xHH (so NUL, 0xFF and metacharacters
// are safe in a NUL-terminated expression).
std::string hyperscan_literal(std::string_view text);

// Whether a regex may be scanned over a chunk of many fields separated by
// '\n' (Hyperscan flag HS_FLAG_MULTILINE) without missing a match that it has
// in a field alone. True when nothing in it looks outside its match except ^
// and $, which multiline mode only relaxes (they then also match at every
// separator). Conservative: \A \z \Z \G, lookaround, (* verbs, conditionals,
// and option resets next to ^/$ make it false even where harmless (e.g.
// escaped or inside a class). \b and \B are safe: '\n' is not a word byte.
bool chunk_safe_regex(std::string_view regex) noexcept;

// `text` as a PCRE2 regex matching exactly those bytes (other bytes than
// letters and digits written \x{HH}), to sit inside a larger regex.
std::string pcre2_literal(std::string_view text);

// Whether a regex keeps its meaning as one branch (?:regex) of a larger
// alternation: nothing in it refers to groups by number or name, recursion,
// callouts, verbs, \Q..\E or extended mode (whose comments could swallow
// the closing parenthesis). Conservative, as above.
bool alternation_safe_regex(std::string_view regex) noexcept;

}  // namespace preroll::daemon::matching_detail
