#include "text.hpp"

#include <cstdio>
#include <ctime>

namespace preroll::atf_tool {

namespace {

// Length of the valid UTF-8 sequence (RFC 3629: no overlongs, surrogates or
// values above U+10FFFF) starting at s[i]; 0 when there is none.
std::size_t utf8_sequence_at(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = byte(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
  }
  return n;
}

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char digits[] = "0123456789abcdef";
  out += "\\x";
  out += digits[c >> 4];
  out += digits[c & 0xf];
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// days_from_civil): pure arithmetic, no time zone or calendar state.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

}  // namespace

std::optional<std::int64_t> parse_iso_time_ns(std::string_view text) {
  std::size_t i = 0;
  const auto number = [&](std::size_t digits, unsigned& out) {
    if (text.size() - i < digits) return false;
    out = 0;
    for (std::size_t k = 0; k < digits; ++k, ++i) {
      const char c = text[i];
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<unsigned>(c - '0');
    }
    return true;
  };
  const auto literal = [&](auto accept) {
    if (i >= text.size() || !accept(text[i])) return false;
    ++i;
    return true;
  };
  const auto is = [](char want) { return [want](char c) { return c == want; }; };

  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !literal(is('-')) || !number(2, month) || !literal(is('-')) || !number(2, day) ||
      !literal([](char c) { return c == 'T' || c == 't' || c == ' '; }) || !number(2, hour) || !literal(is(':')) ||
      !number(2, minute) || !literal(is(':')) || !number(2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  std::int64_t fraction_ns = 0;
  if (literal([](char c) { return c == '.' || c == ','; })) {
    std::size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (digits == 9) return std::nullopt;
      fraction_ns = fraction_ns * 10 + (text[i] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) fraction_ns *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (literal([](char c) { return c == 'Z' || c == 'z'; })) {
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i++] == '-' ? -1 : 1;
    unsigned offset_hours = 0, offset_minutes = 0;
    if (!number(2, offset_hours)) return std::nullopt;
    literal(is(':'));
    if (!number(2, offset_minutes) || offset_hours > 23 || offset_minutes > 59) return std::nullopt;
    offset_seconds = sign * static_cast<std::int64_t>(offset_hours * 3600 + offset_minutes * 60);
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;

  const std::int64_t seconds =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // int64 nanoseconds reach from 1677-09-21 to 2262-04-11.
  constexpr std::int64_t kMaxSeconds = 9'223'372'035;
  if (seconds < -kMaxSeconds || seconds > kMaxSeconds) return std::nullopt;
  return seconds * 1'000'000'000 + fraction_ns;
}

std::string iso_time_ns(std::int64_t wall_ns) {
  constexpr std::int64_t kNsPerSecond = 1'000'000'000;
  std::int64_t seconds = wall_ns / kNsPerSecond;
  std::int64_t fraction = wall_ns % kNsPerSecond;
  if (fraction < 0) {
    fraction += kNsPerSecond;
    seconds -= 1;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  char date[64];
  if (::gmtime_r(&t, &tm) == nullptr || std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    return std::to_string(wall_ns) + "ns";
  }
  char text[96];
  std::snprintf(text, sizeof text, "%s.%09lldZ", date, static_cast<long long>(fraction));
  return text;
}

std::string format_duration(std::uint64_t ns) {
  char text[48];
  const auto scaled = [&](double divisor, const char* unit) {
    std::snprintf(text, sizeof text, "%.3f%s", static_cast<double>(ns) / divisor, unit);
  };
  if (ns < 1'000) {
    std::snprintf(text, sizeof text, "%lluns", static_cast<unsigned long long>(ns));
  } else if (ns < 1'000'000) {
    scaled(1e3, "us");
  } else if (ns < 1'000'000'000) {
    scaled(1e6, "ms");
  } else {
    scaled(1e9, "s");
  }
  return text;
}

std::string escape_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c >= 0x80) {
      const std::size_t n = utf8_sequence_at(bytes, i);
      // C1 controls (U+0080..U+009F) act as escape sequences on some terminals.
      const bool c1_control = n == 2 && c == 0xc2 && static_cast<unsigned char>(bytes[i + 1]) < 0xa0;
      if (n > 0 && !c1_control) {
        out.append(bytes.substr(i, n));
        i += n;
        continue;
      }
      append_hex_escape(out, c);
    } else {
      append_hex_escape(out, c);
    }
    ++i;
  }
  return out;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t n = utf8_sequence_at(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

}  // namespace preroll::atf_tool
