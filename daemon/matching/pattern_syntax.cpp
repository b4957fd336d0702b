#include "pattern_syntax.hpp"

namespace preroll::daemon::matching_detail {

std::string hyperscan_literal(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() * 4);
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    const bool alnum = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
    if (alnum) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

bool chunk_safe_regex(std::string_view re) noexcept {
  bool has_anchor = false;      // ^ or $ anywhere (even escaped or in a class)
  bool resets_options = false;  // (?-...) or (?^...): could turn multiline off again
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '^' || c == '$') has_anchor = true;
    if (c == '\\' && i + 1 < re.size()) {
      const char e = re[i + 1];
      if (e == 'A' || e == 'z' || e == 'Z' || e == 'G') return false;
      ++i;  // the escaped character is not syntax
      continue;
    }
    if (c != '(' || i + 1 >= re.size()) continue;
    const std::string_view rest = re.substr(i + 1);
    if (rest.starts_with("*")) return false;  // verbs, (*pla: ...), (*LF)...
    if (rest.starts_with("?=") || rest.starts_with("?!") || rest.starts_with("?<=") || rest.starts_with("?<!") ||
        rest.starts_with("?("))
      return false;  // lookaround and conditionals see past the match
    if (rest.starts_with("?")) {
      // Inline options: (?imsx-imsx) or (?^...), letters up to ')' or ':'.
      for (std::size_t j = 1; j < rest.size(); ++j) {
        const char o = rest[j];
        if (o == '-' || o == '^') resets_options = true;
        else if (!((o >= 'a' && o <= 'z') || (o >= 'A' && o <= 'Z'))) break;
      }
    }
  }
  return !(has_anchor && resets_options);
}

std::string pcre2_literal(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() * 6);
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if ((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) {
      out.push_back(ch);
    } else {
      out += "\\x{";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
      out.push_back('}');
    }
  }
  return out;
}

bool alternation_safe_regex(std::string_view re) noexcept {
  for (std::size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      const char e = re[i + 1];
      // back-references (\1 \g \k), \Q..\E, \K, \G
      if ((e >= '0' && e <= '9') || e == 'g' || e == 'k' || e == 'Q' || e == 'E' || e == 'K' || e == 'G') return false;
      ++i;
      continue;
    }
    if (c != '(' || i + 1 >= re.size()) continue;
    const std::string_view rest = re.substr(i + 1);
    if (rest.starts_with("*")) return false;  // verbs and start-of-pattern options
    if (!rest.starts_with("?")) continue;
    if (rest.size() < 2) return false;
    const char k = rest[1];
    if (k == ':' || k == '=' || k == '!' || k == '>' || k == '|' || k == '#') continue;
    if (k == '<' && rest.size() > 2 && (rest[2] == '=' || rest[2] == '!')) continue;  // lookbehind
    if (k == '<' || k == '\'' || k == 'P' || k == 'R' || k == '&' || k == '(' || k == 'C' || k == '+' ||
        (k >= '0' && k <= '9'))
      return false;  // named groups, recursion, subroutines, conditionals, callouts
    // Inline options: refuse extended mode and relative subroutine calls (?-1).
    for (std::size_t j = 1; j < rest.size(); ++j) {
      const char o = rest[j];
      if (o == 'x') return false;
      if (o == '-' && j + 1 < rest.size() && rest[j + 1] >= '0' && rest[j + 1] <= '9') return false;
      if (!((o >= 'a' && o <= 'z') || (o >= 'A' && o <= 'Z') || o == '-' || o == '^')) break;
    }
  }
  return true;
}

}  // namespace preroll::daemon::matching_detail
