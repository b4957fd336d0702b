// preroll-atf verify: reads every record and says whether the file is whole.
#include <filesystem>
#include <iostream>

#include "cli.hpp"

namespace preroll::atf_tool {

int run_verify(const std::vector<std::string>& args) {
  boost::program_options::options_description options("Options");
  const CommandArgs cmd =
      parse_command(args,
                    "usage: preroll-atf verify FILE\n\n"
                    "Checks every record. Exit 0: the file is whole (clean end, or no end record but\n"
                    "ending on a record boundary). Exit 1: damaged or truncated; prints the offset of\n"
                    "the first bad record, why, and what was good before it.",
                    options);
  if (cmd.help) return kExitOk;

  auto reader = atf::Reader::open(cmd.file);
  atf::ReadWindow window;
  while (reader->next(window)) {
  }
  const atf::ReadStatus& s = reader->status();
  std::error_code ignored;
  const auto size = std::filesystem::file_size(cmd.file, ignored);
  const std::string counts = std::to_string(s.windows) + " windows, " + std::to_string(s.events) + " events, " +
                             std::to_string(s.good_records) + " records";

  if (s.reason == atf::StopReason::clean_end) {
    std::cout << "OK: clean end (end record present); " << counts << ", " << size << " bytes\n";
    return kExitOk;
  }
  if (s.reason == atf::StopReason::eof_no_end) {
    std::cout << "OK: ends on a record boundary without an end record (writer running or stopped between "
                 "windows); "
              << counts << ", " << size << " bytes\n";
    return kExitOk;
  }
  std::cout << "BAD: " << atf::to_string(s.reason) << " at offset " << s.record_offset << ": " << s.detail << '\n';
  std::cout << "good before it: " << counts << "; whole up to offset " << s.offset << " of " << size << " bytes\n";
  return kExitDamaged;
}

}  // namespace preroll::atf_tool
