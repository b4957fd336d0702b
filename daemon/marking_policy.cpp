#include "marking_policy.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace preroll::daemon {

namespace {
constexpr std::size_t kMaxPatterns = 4096;
constexpr std::size_t kMaxPatternLength = 4096;

bool contains(std::string_view hay, const std::string& needle) noexcept {
  if (needle.size() > hay.size()) return false;
  // glibc memmem (two-way / SSE) is far faster than a naive scan.
  return ::memmem(hay.data(), hay.size(), needle.data(), needle.size()) != nullptr;
}
}  // namespace

std::shared_ptr<const MarkingPolicy> MarkingPolicy::build(const PolicySpec& spec) {
  const auto& literals = spec.triggers;
  if (spec.level_threshold > 5 || spec.level_threshold < -1)
    throw std::invalid_argument("trigger level " + std::to_string(spec.level_threshold) + " outside 0..5");
  if (literals.size() > kMaxPatterns)
    throw std::invalid_argument(std::to_string(literals.size()) + " triggers exceed the limit of " +
                                std::to_string(kMaxPatterns));
  auto p = std::shared_ptr<MarkingPolicy>(new MarkingPolicy());
  p->enabled_ = spec.enabled;
  p->level_threshold_ = spec.level_threshold;
  for (const auto& text : literals) {
    if (text.empty()) throw std::invalid_argument("trigger '': an empty pattern would match every event");
    if (text.size() > kMaxPatternLength)
      throw std::invalid_argument("trigger '" + text.substr(0, 32) + "...' is longer than " +
                                  std::to_string(kMaxPatternLength) + " bytes");
    p->patterns_.push_back({static_cast<std::uint32_t>(p->patterns_.size()), text});
  }
  return p;
}

bool MarkingPolicy::match(std::string_view name, std::string_view message, PatternCounts& counts) const noexcept {
  bool marked = false;
  for (const Pattern& pat : patterns_) {
    if (contains(message, pat.text) || contains(name, pat.text)) {
      marked = true;
      if (pat.id < counts.hits.size()) ++counts.hits[pat.id];
    }
  }
  return marked;
}

std::string MarkingPolicy::to_json() const {
  nlohmann::json j;
  j["marking"] = enabled_ ? "on" : "off";
  static const char* const names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
  j["trigger_level"] = level_threshold_ < 0 ? "none" : names[level_threshold_];
  j["patterns"] = nlohmann::json::array();
  for (const Pattern& p : patterns_)
    j["patterns"].push_back({{"id", p.id}, {"kind", "literal"}, {"text", p.text}, {"field", "any"}});
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace preroll::daemon
