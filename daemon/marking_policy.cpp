#include "marking_policy.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace preroll::daemon {

void PatternStats::set_last(std::uint32_t id, LastMatch m) {
  std::lock_guard lock(mutex_);
  for (auto& [pid, last] : last_)
    if (pid == id) {
      last = std::move(m);
      return;
    }
  last_.emplace_back(id, std::move(m));
}

PatternStats::LastMatch PatternStats::last(std::uint32_t id) const {
  std::lock_guard lock(mutex_);
  for (const auto& [pid, last] : last_)
    if (pid == id) return last;
  return {};
}

std::shared_ptr<const MarkingPolicy> MarkingPolicy::build(const PolicyConfig& config) {
  if (config.trigger_level < -1 || config.trigger_level > 5)
    throw std::invalid_argument("--trigger-level " + std::to_string(config.trigger_level) + " outside 0..5");
  // The line's one branch besides the exception edges is the compiler's flag
  // "free the new object if constructing it threw", tested when the
  // shared_ptr's own allocation throws, and clear by then.
  auto p = std::shared_ptr<MarkingPolicy>(new MarkingPolicy());  // GCOVR_EXCL_BR_LINE
  p->config_ = config;
  std::vector<PatternSpec> specs;
  for (const TriggerSpec& t : config.triggers) {
    if (t.text.empty()) throw std::invalid_argument("--trigger '': an empty pattern would match every event");
    specs.push_back({t.text, t.kind, config.ignore_case, config.trigger_field});
    p->has_count_conditions_ = p->has_count_conditions_ || t.min_count > 1;
  }
  if (!specs.empty()) {
    MatcherLimits limits;
    limits.strict = config.strict_patterns;
    try {
      p->matcher_ = PatternMatcher::build(specs, limits);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("--trigger: ") + e.what());
    }
    for (const CompiledPattern& c : p->matcher_->patterns())
      if (c.fell_back_to_literal)
        p->warnings_.push_back("--trigger 're:" + c.spec.text + "': invalid regex (" + c.compile_error +
                               " at offset " + std::to_string(c.error_offset) + "); matched as literal text");
  }
  p->stats_ = std::make_unique<PatternStats>(specs.size());
  return p;
}

SelectionPolicy MarkingPolicy::selection(std::uint32_t rings_per_lane) const noexcept {
  SelectionPolicy s;
  s.marking = config_.marking;
  s.pre_roll = std::min(config_.pre_roll, rings_per_lane > 2 ? rings_per_lane - 2 : 0u);
  s.post_roll = config_.post_roll;
  s.process_scope = config_.process_scope;
  s.on_crash = config_.on_crash == "all" ? OnCrash::all : config_.on_crash == "none" ? OnCrash::none : OnCrash::marked;
  return s;
}

bool MarkingPolicy::marks(std::string_view name, std::string_view message, std::uint8_t level,
                          PatternMatcher::Scratch* scratch) const noexcept {
  if (!config_.marking) return false;
  if (level_marks(level)) return true;
  return matcher_ != nullptr && scratch != nullptr && matcher_->match_any({name, message}, *scratch);
}

std::string MarkingPolicy::to_json() const {
  static const char* const levels[] = {"trace", "debug", "info", "warn", "error", "fatal"};
  static const char* const fields[] = {"any", "name", "message"};
  nlohmann::json j;
  j["marking"] = config_.marking ? "on" : "off";
  j["trigger_level"] = config_.trigger_level < 0 ? "none" : levels[config_.trigger_level];
  j["ignore_case"] = config_.ignore_case;
  j["field"] = fields[static_cast<int>(config_.trigger_field)];
  j["pre_roll"] = config_.pre_roll;
  j["post_roll"] = config_.post_roll;
  j["flush_after_s"] = static_cast<double>(config_.flush_after_ns) / 1e9;
  j["on_crash"] = config_.on_crash;
  j["scope"] = config_.process_scope ? "process" : "lane";
  j["engine"] = matcher_ ? matcher_->engine() : std::string_view("none");
  j["patterns"] = nlohmann::json::array();
  for (std::uint32_t id = 0; id < config_.triggers.size(); ++id) {
    const TriggerSpec& t = config_.triggers[id];
    const bool fell_back = matcher_->patterns()[id].fell_back_to_literal;  // patterns imply a matcher
    nlohmann::json pj;
    pj["id"] = id;
    pj["kind"] = t.kind == PatternKind::regex && !fell_back ? "regex" : "literal";
    pj["text"] = t.text;
    if (fell_back) pj["fallback"] = matcher_->patterns()[id].compile_error;
    if (t.min_count > 1) {
      pj["min_count"] = t.min_count;
      pj["within_s"] = static_cast<double>(t.within_ns) / 1e9;
    }
    j["patterns"].push_back(std::move(pj));
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace preroll::daemon
