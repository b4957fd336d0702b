// steady_client: a well-behaved client (the real client library) that keeps
// emitting at a steady pace, with a client-marked event every MARK_EVERY
// events, until STOP_FILE exists. It runs beside the hostile clients of
// hostile_client_test.cpp, which check that it loses no window.
//
//   steady_client STOP_FILE [MARK_EVERY=400] [PAUSE_US=500]
//
// Marked messages are "steady-mark seq=NNNNNNNNNN", every one distinct, so
// the test can check each is on disk exactly once. Prints
// {"phase":"running"} once connected, then at the end one JSON line:
// {"events":E,"marked":M,"overwritten":O,"dropped":D,"connects":C}.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "preroll/preroll.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: steady_client STOP_FILE [MARK_EVERY] [PAUSE_US]\n");
    return 2;
  }
  const std::string stop_file = argv[1];
  const unsigned long mark_every = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 400;
  const long pause_us = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 500;
  if (mark_every == 0) return 2;

  unsigned long long events = 0, marked = 0;
  bool announced = false;
  char msg[96];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  for (;;) {
    // The stop file is looked at every 64 events (a syscall, not per event).
    if ((events & 63) == 0) {
      if (std::ifstream(stop_file).good()) break;
      if (std::chrono::steady_clock::now() > deadline) return 3;  // the test forgot us
      if (!announced) {
        preroll_counters c{};
        preroll_get_counters(&c);
        if (c.daemon_connected == 1) {
          std::printf("{\"phase\":\"running\"}\n");
          std::fflush(stdout);
          announced = true;
        }
      }
    }
    ++events;
    if (events % mark_every == 0) {
      std::snprintf(msg, sizeof msg, "steady-mark seq=%010llu", events);
      preroll_mark("steady", msg);
      ++marked;
    } else {
      std::snprintf(msg, sizeof msg, "steady event seq=%010llu with some text to fill rings", events);
      preroll_emit(PREROLL_INFO, "steady", msg);
    }
    if (pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  preroll_shutdown();
  preroll_counters c{};
  preroll_get_counters(&c);
  std::printf("{\"events\":%llu,\"marked\":%llu,\"overwritten\":%llu,\"dropped\":%llu,\"connects\":%llu}\n", events,
              marked, static_cast<unsigned long long>(c.events_overwritten),
              static_cast<unsigned long long>(c.events_dropped_nested + c.events_dropped_no_lane +
                                              c.events_dropped_disabled),
              static_cast<unsigned long long>(c.daemon_connects));
  return 0;
}
