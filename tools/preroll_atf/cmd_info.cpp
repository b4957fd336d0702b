// preroll-atf info: the file header, what the file holds and how it ends.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "text.hpp"

namespace preroll::atf_tool {

namespace {

namespace po = boost::program_options;

void field(const char* name, const std::string& value) {
  std::cout << std::left << std::setw(17) << (std::string(name) + ":") << value << '\n';
}

// The policy's schema belongs to the daemon; show its scalar settings and
// the size of its lists, then the patterns by index (the ids windows use).
void print_policy(const std::string& text) {
  const auto policy = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (text.empty()) {
    field("policy", "(none)");
    return;
  }
  if (policy.is_discarded() || !policy.is_object()) {
    field("policy", "(not a JSON object, " + std::to_string(text.size()) + " bytes)");
    return;
  }
  std::string summary;
  for (const auto& [key, value] : policy.items()) {
    if (!summary.empty()) summary += ", ";
    if (value.is_array()) {
      summary += key + ": " + std::to_string(value.size()) + " entries";
    } else if (value.is_object()) {
      summary += key + ": {...}";
    } else {
      summary += key + "=" + value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  field("policy", escape_text(summary));
  const auto patterns = policy.find("patterns");
  if (patterns == policy.end() || !patterns->is_array()) return;
  for (std::size_t i = 0; i < patterns->size(); ++i) {
    std::cout << "  pattern " << i << ": "
              << escape_text((*patterns)[i].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) << '\n';
  }
}

}  // namespace

int run_info(const std::vector<std::string>& args) {
  po::options_description options("Options");
  const CommandArgs cmd = parse_command(args, "usage: preroll-atf info FILE", options);
  if (cmd.help) return kExitOk;

  auto reader = atf::Reader::open(cmd.file);
  const atf::FileHeader& h = reader->header();
  std::map<std::string, std::uint64_t> by_reason;
  std::uint64_t marked = 0;
  atf::ReadWindow window;
  while (reader->next(window)) {
    ++by_reason[std::string(atf::to_string(window.meta.reason))];
    marked += window.meta.marked_count;
  }
  const atf::ReadStatus& status = reader->status();
  std::error_code size_error;
  const auto size = std::filesystem::file_size(cmd.file, size_error);

  field("file", cmd.file);
  field("size", size_error ? "?" : std::to_string(size) + " bytes");
  field("format", "ATF v" + std::to_string(h.format_version) + ", written by preroll " + escape_text(h.preroll_version));
  field("host", escape_text(h.host_name));
  field("boot id", escape_text(h.boot_id));
  field("process", escape_text(h.process_name) + " (pid " + std::to_string(h.pid) + ", uid " + std::to_string(h.uid) + ")");
  field("command line", escape_text(h.command_line));
  field("clock pair", iso_time_ns(h.clock_realtime_ns) + " = monotonic " + std::to_string(h.clock_monotonic_ns) + " ns");
  field("process start",
        iso_time_ns(atf::wall_clock_ns(h, h.process_start_ns)) + " (monotonic " + std::to_string(h.process_start_ns) + " ns)");
  field("file sequence", std::to_string(h.file_sequence));
  print_policy(h.policy_json);

  std::string reasons;
  for (const auto& [reason, count] : by_reason) reasons += (reasons.empty() ? " (" : ", ") + reason + " " + std::to_string(count);
  field("windows", std::to_string(status.windows) + (reasons.empty() ? "" : reasons + ")"));
  field("events", std::to_string(status.events) + " (" + std::to_string(marked) + " marked)");
  std::string stop = std::string(atf::to_string(status.reason));
  if (!status.ok()) stop += " at offset " + std::to_string(status.offset) + ": " + status.detail;
  field("status", stop);
  std::cout.flush();
  return status.ok() ? kExitOk : kExitDamaged;
}

}  // namespace preroll::atf_tool
