#include "event_filter.hpp"

#include <algorithm>
#include <charconv>

#include "cli.hpp"
#include "text.hpp"

namespace preroll::atf_tool {

namespace po = boost::program_options;

namespace {

template <typename Int>
std::optional<Int> parse_decimal(std::string_view text) {
  Int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string> values(const po::variables_map& options, const char* name) {
  if (options.count(name) == 0) return {};
  return options[name].as<std::vector<std::string>>();
}

// Repeated options and comma lists both add to the set.
template <typename Int>
std::set<Int> parse_id_list(const po::variables_map& options, const char* name) {
  std::set<Int> out;
  for (const std::string& value : values(options, name)) {
    std::string_view rest = value;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      const auto id = parse_decimal<Int>(item);
      if (!id) throw UsageError("--" + std::string(name) + ": '" + std::string(item) + "' is not a number");
      out.insert(*id);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

TimeBound parse_time_bound(const std::string& option, const std::string& text) {
  TimeBound bound;
  if (const auto ns = parse_decimal<std::uint64_t>(text)) {
    bound.monotonic = true;
    bound.monotonic_ns = *ns;
    return bound;
  }
  const auto wall = parse_iso_time_ns(text);
  if (!wall) {
    throw UsageError("--" + option + ": '" + text +
                     "' is neither a UTC time like 2026-11-25T10:00:00.5Z nor CLOCK_MONOTONIC nanoseconds");
  }
  bound.wall_ns = *wall;
  return bound;
}

std::optional<std::uint8_t> parse_level(const std::string& text) {
  if (const auto number = parse_decimal<std::uint8_t>(text)) return number;
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "warning") lower = "warn";
  for (std::uint8_t level = 0; level <= 5; ++level) {
    if (atf::level_name(level) == lower) return level;
  }
  return std::nullopt;
}

}  // namespace

void add_filter_options(po::options_description& options) {
  const auto list = [](const char* name) {
    return po::value<std::vector<std::string>>()->composing()->value_name(name);
  };
  const auto one = [](const char* name) { return po::value<std::string>()->value_name(name); };
  options.add_options()
      ("window", list("ID"), "only window ID (repeat, or ID,ID,...)")
      ("tid", list("TID"), "only thread TID (repeat, or TID,TID,...)")
      ("since", one("TIME"), "only events at or after TIME: UTC like 2026-11-25T10:00:00.5Z, or "
                             "CLOCK_MONOTONIC ns (as --raw prints)")
      ("until", one("TIME"), "only events at or before TIME (same forms)")
      ("level", one("LEVEL"), "only events at LEVEL or above: trace debug info warn error fatal, or 0..255")
      ("pattern", list("P"), "only events marked by pattern P: its id, or its text as in the policy "
                             "(repeat for any of several)")
      ("marked", "only marked events (by the client or the policy)");
}

EventFilter parse_filter(const po::variables_map& options) {
  EventFilter f;
  f.windows = parse_id_list<std::uint64_t>(options, "window");
  f.tids = parse_id_list<std::uint32_t>(options, "tid");
  if (options.count("since") != 0) f.since = parse_time_bound("since", options["since"].as<std::string>());
  if (options.count("until") != 0) f.until = parse_time_bound("until", options["until"].as<std::string>());
  if (f.since && f.until && f.since->monotonic == f.until->monotonic &&
      (f.since->monotonic ? f.since->monotonic_ns > f.until->monotonic_ns : f.since->wall_ns > f.until->wall_ns)) {
    throw UsageError("--since is after --until");
  }
  if (options.count("level") != 0) {
    const std::string& text = options["level"].as<std::string>();
    f.min_level = parse_level(text);
    if (!f.min_level) throw UsageError("--level: '" + text + "' is not trace, debug, info, warn, error, fatal or 0..255");
  }
  f.patterns = values(options, "pattern");
  f.marked_only = options.count("marked") != 0;
  return f;
}

FileFilter::FileFilter(const EventFilter& filter, const atf::FileHeader& header, const PolicyPatterns& patterns)
    : filter_(&filter) {
  clock_.clock_realtime_ns = header.clock_realtime_ns;
  clock_.clock_monotonic_ns = header.clock_monotonic_ns;
  for (const std::string& spec : filter.patterns) {
    if (const auto id = patterns.resolve(spec)) {
      pattern_fields_.insert(atf::pattern_field(*id));
    } else {
      unresolved_.push_back(spec);
    }
  }
}

bool FileFilter::selects_window(const atf::WindowMeta& window) const {
  return (filter_->windows.empty() || filter_->windows.count(window.window_id) != 0) &&
         (filter_->tids.empty() || filter_->tids.count(window.tid) != 0);
}

std::int64_t FileFilter::wall_ns(std::uint64_t monotonic_ns) const noexcept {
  return atf::wall_clock_ns(clock_, monotonic_ns);
}

bool FileFilter::in_time_range(std::uint64_t monotonic_ns) const {
  const auto after = [&](const TimeBound& b) {
    return b.monotonic ? monotonic_ns >= b.monotonic_ns : wall_ns(monotonic_ns) >= b.wall_ns;
  };
  const auto before = [&](const TimeBound& b) {
    return b.monotonic ? monotonic_ns <= b.monotonic_ns : wall_ns(monotonic_ns) <= b.wall_ns;
  };
  return (!filter_->since || after(*filter_->since)) && (!filter_->until || before(*filter_->until));
}

bool FileFilter::window_in_time_range(const atf::WindowMeta& window) const {
  const auto ends_before_since = [&](const TimeBound& b) {
    return b.monotonic ? window.end_ns < b.monotonic_ns : wall_ns(window.end_ns) < b.wall_ns;
  };
  const auto starts_after_until = [&](const TimeBound& b) {
    return b.monotonic ? window.start_ns > b.monotonic_ns : wall_ns(window.start_ns) > b.wall_ns;
  };
  return !(filter_->since && ends_before_since(*filter_->since)) &&
         !(filter_->until && starts_after_until(*filter_->until));
}

bool FileFilter::selects_event(const atf::StoredEvent& event) const {
  if (filter_->marked_only && !is_marked(event)) return false;
  if (filter_->min_level && event.level < *filter_->min_level) return false;
  if (!filter_->patterns.empty() && pattern_fields_.count(event.pattern) == 0) return false;
  return in_time_range(event.timestamp_ns);
}

bool is_marked(const atf::StoredEvent& event) noexcept {
  return (event.flags & (atf::event_flags::client_marked | atf::event_flags::policy_marked)) != 0;
}

}  // namespace preroll::atf_tool
