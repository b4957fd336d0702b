// A program that already logs with spdlog gets flight-recorder capture by
// adding one sink. The console keeps showing warnings and up; preroll records
// every level, and the daemon keeps only the windows around errors (its
// default --trigger-level), with the debug lines that led up to them.
//
//   spdlog_example [REQUESTS [FAILING_REQUEST]]   (defaults: 2000, 1500)
//
// The last line printed is this process's capture counters as JSON.
#include <preroll/preroll.h>
#include <preroll/spdlog_sink.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

int main(int argc, char** argv) {
  const unsigned long requests = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  const unsigned long failing = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1500;

  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>(
      "checkout", spdlog::sinks_init_list{console, std::make_shared<preroll::spdlog_sink>()});
  logger->set_level(spdlog::level::trace);  // every level reaches the rings
  spdlog::set_default_logger(logger);

  for (unsigned long id = 0; id < requests; ++id) {
    spdlog::debug("request {}: cart has {} items", id, id % 7 + 1);
    spdlog::info("request {}: payment authorized in {} ms", id, 20 + id % 13);
    if (id == failing) spdlog::error("request {}: inventory service returned 503, order not placed", id);
  }
  logger->flush();  // hands the partial ring to the daemon

  preroll_counters c{};
  if (preroll_get_counters(&c) != 0) return 1;
  preroll_shutdown();
  std::printf("{\"events_written\":%llu,\"events_overwritten\":%llu,\"daemon_connected\":%u}\n",
              static_cast<unsigned long long>(c.events_written),
              static_cast<unsigned long long>(c.events_overwritten), c.daemon_connected);
  return 0;
}
