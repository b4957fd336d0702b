// The FILE... of cat and export: each opened, its policy read and the
// command's filter bound to it; a file that cannot be opened is reported and
// left out, so the others are still printed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "event_filter.hpp"
#include "policy_patterns.hpp"
#include "preroll/atf/reader.hpp"
#include "time_base.hpp"

namespace preroll::atf_tool {

struct SourceFile {
  SourceFile(std::string path, std::unique_ptr<atf::Reader> reader, const EventFilter& filter);

  std::string path;
  std::unique_ptr<atf::Reader> reader;  // after open: just past the header
  atf::FileHeader header;               // a copy: the reader may be replaced by a second one
  PolicyPatterns patterns;
  FileFilter filter;
  atf::ReadStatus status;               // where reading stopped, once read
};

struct Inputs {
  std::vector<SourceFile> files;  // those that opened, in command-line order
  bool open_failed = false;       // some did not (said on stderr)
  TimeBase time_base = TimeBase::monotonic;
};

// Opens every path. Throws UsageError when a --pattern names a pattern no
// opened file's policy knows (before anything is printed).
Inputs open_inputs(const std::vector<std::string>& paths, const EventFilter& filter);

// Says on stderr where each damaged file stopped; the exit code for all.
int report_inputs(const Inputs& inputs);

}  // namespace preroll::atf_tool
