// prerolld: parse options, set up logging, run the server. Exceptions stop
// here with a message for the operator and exit status 1.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "config.hpp"
#include "marking_policy.hpp"
#include "server.hpp"
#include "systemd/jit_probe.hpp"
#include "systemd/journal_log.hpp"

namespace {
void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("prerolld");
  // Under systemd, journald stamps every line itself: no second timestamp,
  // and a "<N>" priority prefix instead.
  if (preroll::daemon::systemd::is_journal_stream()) {
    logger->set_formatter(preroll::daemon::systemd::journal_formatter());
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}
}  // namespace

int main(int argc, char** argv) {
  auto parsed = preroll::daemon::parse_command_line(argc, argv);
  if (!parsed.config) {
    std::fprintf(parsed.exit_code == 0 ? stdout : stderr, "%s\n", parsed.message.c_str());
    return parsed.exit_code;
  }
  if (parsed.config->check_only) {
    // Everything but the environment (socket, directory): options parsed
    // above, the policy compiled here.
    try {
      const auto policy = preroll::daemon::MarkingPolicy::build(parsed.config->policy);
      for (const auto& w : policy->warnings()) std::fprintf(stderr, "prerolld: warning: %s\n", w.c_str());
      std::printf("prerolld: configuration OK%s\n",
                  parsed.config->config_file.empty() ? "" : (" (" + parsed.config->config_file + ")").c_str());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "prerolld: %s\n", e.what());
      return 1;
    }
  }
  try {
    setup_logging(parsed.config->log_level);
    preroll::daemon::systemd::log_jit_availability();
    preroll::daemon::Server server(std::move(*parsed.config));
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%sprerolld: %s\n", preroll::daemon::systemd::is_journal_stream() ? "<3>" : "", e.what());
    return 1;
  }
}
