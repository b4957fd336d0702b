#include "cli.hpp"

#include <iostream>

namespace preroll::atf_tool {

namespace po = boost::program_options;

CommandArgs parse_command(const std::vector<std::string>& args, const std::string& usage,
                          po::options_description& options, FileArgs files) {
  options.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(options);
  all.add_options()("file", po::value<std::vector<std::string>>(), "ATF file");
  po::positional_options_description positional;
  positional.add("file", files == FileArgs::one ? 1 : -1);

  CommandArgs out;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), out.options);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  if (out.options.count("help") != 0) {
    std::cout << usage << "\n\n" << options;
    out.help = true;
    return out;
  }
  if (out.options.count("file") == 0) throw UsageError(files == FileArgs::one ? "missing FILE" : "missing FILE...");
  out.files = out.options["file"].as<std::vector<std::string>>();
  out.file = out.files.front();
  return out;
}

int report_stop(const std::string& file, const atf::ReadStatus& status) {
  if (status.ok()) return kExitOk;
  std::cerr << "preroll-atf: " << file << ": " << atf::to_string(status.reason) << " at offset " << status.offset;
  if (status.record_offset != status.offset) std::cerr << " (record at offset " << status.record_offset << ")";
  std::cerr << ": " << status.detail << "\n";
  return kExitDamaged;
}

}  // namespace preroll::atf_tool
