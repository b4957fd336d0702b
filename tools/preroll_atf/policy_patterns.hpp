// The trigger patterns of a file's marking policy, by id. An event's
// `pattern` field and a window's hits name patterns by id only; their text
// lives in the header's policy_json, whose schema belongs to the daemon, so
// this reads it leniently: a file whose policy is missing or odd still reads,
// its patterns are just unnamed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace preroll::atf_tool {

class PolicyPatterns {
 public:
  explicit PolicyPatterns(const std::string& policy_json);

  // False when the policy has no "patterns" array: ids then cannot be checked.
  [[nodiscard]] bool known() const noexcept { return known_; }

  // The pattern's text, or nullptr when the policy does not give one.
  [[nodiscard]] const std::string* text(std::uint32_t id) const noexcept;

  // The id a --pattern argument names: the pattern whose text is exactly
  // `spec` (text wins, so a trigger "500" is found by its text), else `spec`
  // read as a decimal id, which must exist when the policy lists patterns.
  [[nodiscard]] std::optional<std::uint32_t> resolve(std::string_view spec) const;

  // "0 \"boom\", 1 \"fail(ed)?\"" for error messages; "none" when empty.
  [[nodiscard]] std::string describe() const;

 private:
  bool known_ = false;
  std::vector<std::optional<std::string>> texts_;  // index = pattern id
};

// The pattern id an event's `pattern` field names (0 none, n = id n - 1).
[[nodiscard]] constexpr std::optional<std::uint32_t> pattern_id_of(std::uint16_t field) noexcept {
  if (field == 0) return std::nullopt;
  return static_cast<std::uint32_t>(field) - 1;
}

}  // namespace preroll::atf_tool
