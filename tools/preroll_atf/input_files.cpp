#include "input_files.hpp"

#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "text.hpp"

namespace preroll::atf_tool {

namespace {

// A filter that can only select nothing is surely a typo; say so rather than
// print nothing. A pattern named by some files only is fine: files written
// under different policies list different patterns.
void require_patterns_named(const EventFilter& filter, const std::vector<SourceFile>& files) {
  if (files.empty()) return;
  for (const std::string& spec : filter.patterns) {
    const bool named = std::any_of(files.begin(), files.end(), [&](const SourceFile& f) {
      const auto& missing = f.filter.unresolved_patterns();
      return std::find(missing.begin(), missing.end(), spec) == missing.end();
    });
    if (named) continue;
    std::string known;
    for (const SourceFile& f : files) {
      const std::string listed = f.patterns.describe();
      if (known.find(listed) == std::string::npos) known += (known.empty() ? "" : "; ") + listed;
    }
    throw UsageError("--pattern '" + escape_text(spec) + "': no pattern with that text or id in the policy (patterns: " +
                     known + ")");
  }
}

}  // namespace

SourceFile::SourceFile(std::string path_in, std::unique_ptr<atf::Reader> reader_in, const EventFilter& filter_in)
    : path(std::move(path_in)),
      reader(std::move(reader_in)),
      header(reader->header()),
      patterns(header.policy_json),
      filter(filter_in, header, patterns) {}

Inputs open_inputs(const std::vector<std::string>& paths, const EventFilter& filter) {
  Inputs in;
  for (const std::string& path : paths) {
    try {
      in.files.emplace_back(path, atf::Reader::open(path), filter);
    } catch (const std::exception& e) {
      // Reader::open names the file in its message.
      std::cerr << "preroll-atf: " << e.what() << '\n';
      in.open_failed = true;
    }
  }
  require_patterns_named(filter, in.files);
  std::vector<const atf::FileHeader*> headers;
  for (const SourceFile& f : in.files) headers.push_back(&f.header);
  if (!headers.empty()) in.time_base = common_time_base(headers);
  return in;
}

int report_inputs(const Inputs& inputs) {
  int code = inputs.open_failed ? kExitDamaged : kExitOk;
  for (const SourceFile& f : inputs.files) code = std::max(code, report_stop(f.path, f.status));
  return code;
}

}  // namespace preroll::atf_tool
