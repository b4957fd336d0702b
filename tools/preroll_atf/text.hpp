// Turning file content into terminal-safe text. Event names and messages are
// bytes from the traced process: nothing from them may reach a terminal as a
// control sequence, and invalid UTF-8 must survive as something readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace preroll::atf_tool {

// "2024-05-01T12:34:56.123456789Z"; the raw number plus "ns" when the value
// is outside what the calendar functions handle.
std::string iso_time_ns(std::int64_t wall_ns);

// The inverse of iso_time_ns: "YYYY-MM-DDTHH:MM:SS[.fraction]Z", the fraction
// 1 to 9 digits, 'T' or a space between date and time, and "Z" or an offset
// "+HH:MM" / "-HH:MM" (required: a time without a zone would silently depend
// on where the reader sits). Nullopt when malformed or outside the years
// 1678..2261 that int64 nanoseconds hold.
std::optional<std::int64_t> parse_iso_time_ns(std::string_view text);

// "850ns", "12.345us", "4.567ms", "1.234s".
std::string format_duration(std::uint64_t ns);

// Printable ASCII and valid, printable UTF-8 pass through; backslash becomes
// "\\", newline "\n", tab "\t", every other byte "\xNN".
std::string escape_text(std::string_view bytes);

[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

// Two lowercase hex digits per byte.
std::string hex_bytes(std::string_view bytes);

}  // namespace preroll::atf_tool
