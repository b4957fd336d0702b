#include "policy_patterns.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "text.hpp"

namespace preroll::atf_tool {

namespace {

// prerolld writes {"id", "kind", "text"} per pattern; a bare string or a
// {"literal"|"regex": text} object is read too, so hand-made and older test
// files name their patterns as well.
std::optional<std::string> text_of(const nlohmann::json& entry) {
  if (entry.is_string()) return entry.get<std::string>();
  if (!entry.is_object()) return std::nullopt;
  for (const char* key : {"text", "literal", "regex"}) {
    const auto it = entry.find(key);
    if (it != entry.end() && it->is_string()) return it->get<std::string>();
  }
  return std::nullopt;
}

std::optional<std::uint32_t> parse_id(std::string_view spec) {
  std::uint32_t id = 0;
  const auto [end, error] = std::from_chars(spec.data(), spec.data() + spec.size(), id);
  if (error != std::errc() || end != spec.data() + spec.size() || spec.empty()) return std::nullopt;
  return id;
}

}  // namespace

PolicyPatterns::PolicyPatterns(const std::string& policy_json) {
  const auto policy = nlohmann::json::parse(policy_json, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded() || !policy.is_object()) return;
  const auto patterns = policy.find("patterns");
  if (patterns == policy.end() || !patterns->is_array()) return;
  known_ = true;
  for (const auto& entry : *patterns) texts_.push_back(text_of(entry));
}

const std::string* PolicyPatterns::text(std::uint32_t id) const noexcept {
  if (id >= texts_.size() || !texts_[id]) return nullptr;
  return &*texts_[id];
}

std::optional<std::uint32_t> PolicyPatterns::resolve(std::string_view spec) const {
  for (std::size_t id = 0; id < texts_.size(); ++id) {
    if (texts_[id] && *texts_[id] == spec) return static_cast<std::uint32_t>(id);
  }
  const auto id = parse_id(spec);
  if (!id || (known_ && *id >= texts_.size())) return std::nullopt;
  return id;
}

std::string PolicyPatterns::describe() const {
  if (texts_.empty()) return "none";
  std::string out;
  for (std::size_t id = 0; id < texts_.size(); ++id) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
    if (texts_[id]) out += " \"" + escape_text(*texts_[id]) + "\"";
  }
  return out;
}

}  // namespace preroll::atf_tool
