// A client program for integration scenarios the load generator does not
// cover. Each mode prints one JSON line with what it did, for the test to
// check against the ATF files.
//
//   churn THREADS EVENTS_PER_THREAD     short-lived threads, 4 at a time; each marks once
//   await-daemon                        mark, emit until the library is connected, mark again
//   across-restart READY_FILE           emit until connected, mark, touch READY_FILE, emit until
//                                       the segment was handed to a second daemon, mark, exit
//   crash MARKS                         mark MARKS times in partial rings, then SIGKILL itself
//   fork                                parent and child each mark once; child exits first
//   signal SIGNALS                      emit in a loop while a thread signals it; handler emits
//   mark-and-idle STOP_FILE             mark once, then stay alive without filling a ring until STOP_FILE
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "preroll/preroll.h"

namespace {

using namespace std::chrono_literals;

preroll_counters counters() {
  preroll_counters c{};
  preroll_get_counters(&c);
  return c;
}

void emit_filler(int n) {
  for (int i = 0; i < n; ++i) preroll_emit(PREROLL_INFO, "filler", "filler event with some text to fill the ring");
}

// Emits until `cond` holds or `limit` passes; false on timeout.
template <typename Cond>
bool emit_until(Cond cond, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    emit_filler(200);
    std::this_thread::sleep_for(1ms);  // pacing: the daemon keeps up
  }
  return true;
}

int churn(int threads, int events) {
  std::atomic<int> next{0};
  auto worker = [&] {
    for (;;) {
      const int id = next.fetch_add(1);
      if (id >= threads) return;
      std::thread([id, events] {
        char msg[64];
        for (int e = 0; e < events; ++e) {
          if (e == events / 2) {
            std::snprintf(msg, sizeof msg, "churn-mark thread=%06d", id);
            preroll_mark("churn", msg);
          } else {
            preroll_emit(PREROLL_DEBUG, "churn", "short-lived thread event");
          }
        }
      }).join();
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < 4; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  preroll_shutdown();
  const auto c = counters();
  std::printf("{\"threads\":%d,\"events_per_thread\":%d,\"dropped_no_lane\":%llu,\"overwritten\":%llu}\n", threads,
              events, static_cast<unsigned long long>(c.events_dropped_no_lane),
              static_cast<unsigned long long>(c.events_overwritten));
  return 0;
}

int await_daemon() {
  preroll_mark("await", "mark-before-daemon");
  std::printf("{\"first_mark\":true}\n");
  std::fflush(stdout);
  const bool ok = emit_until([] { return counters().daemon_connected == 1; }, 60s);
  preroll_mark("await", "mark-after-daemon");
  preroll_shutdown();
  const auto c = counters();
  std::printf("{\"connected\":%s,\"overwritten\":%llu}\n", ok ? "true" : "false",
              static_cast<unsigned long long>(c.events_overwritten));
  return ok ? 0 : 3;
}

int across_restart(const char* ready_file) {
  if (!emit_until([] { return counters().daemon_connected == 1; }, 30s)) return 3;
  preroll_mark("restart", "mark-before-restart");
  emit_filler(2000);  // push the mark's ring out
  { std::ofstream(ready_file) << "ready\n"; }
  // Reattached: the segment was handed to a second daemon (the window in
  // which the library is disconnected can be too short to observe).
  const bool back = emit_until([] { return counters().daemon_connects >= 2; }, 60s);
  const bool lost = back;
  preroll_mark("restart", "mark-after-restart");
  preroll_shutdown();
  std::printf("{\"lost\":%s,\"back\":%s}\n", lost ? "true" : "false", back ? "true" : "false");
  return back ? 0 : 3;
}

int crash(int marks) {
  if (!emit_until([] { return counters().daemon_connected == 1; }, 30s)) return 3;
  std::vector<std::thread> ts;
  std::atomic<int> done{0};
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([t, marks, &done] {
      for (int m = 0; m < marks; ++m) {
        char msg[64];
        std::snprintf(msg, sizeof msg, "crash-mark thread=%d n=%d", t, m);
        preroll_mark("crash", msg);
        emit_filler(50);
      }
      ++done;
      for (;;) pause();  // keep the lane active (partial ring) until the kill
    });
  while (done.load() < 2) std::this_thread::sleep_for(1ms);
  std::printf("{\"marks\":%d}\n", 2 * marks);
  std::fflush(stdout);
  ::raise(SIGKILL);
  return 99;
}

int fork_mode() {
  preroll_mark("fork", "mark-parent-before-fork");
  const pid_t child = ::fork();
  if (child == 0) {
    preroll_mark("fork", "mark-child");
    preroll_shutdown();
    std::_Exit(0);
  }
  int st = 0;
  ::waitpid(child, &st, 0);
  preroll_mark("fork", "mark-parent-after-fork");
  preroll_shutdown();
  std::printf("{\"child_pid\":%d,\"child_status\":%d}\n", static_cast<int>(child), st);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 3;
}

std::atomic<long> g_handler_calls{0};
void on_signal(int) {
  preroll_emit(PREROLL_WARN, "signal", "from the signal handler");
  g_handler_calls.fetch_add(1, std::memory_order_relaxed);
}

int signal_mode(int signals) {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  ::sigaction(SIGUSR1, &sa, nullptr);
  std::atomic<bool> stop{false};
  // The first event claims the lane before any signal can arrive (a signal
  // during the claim would be counted as "no lane", not as nested).
  preroll_emit(PREROLL_INFO, "loop", "first");
  long loop_events = 1;
  const pthread_t self = ::pthread_self();
  std::thread killer([&] {
    for (int i = 0; i < signals; ++i) {
      ::pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(100us);
    }
    stop = true;
  });
  while (!stop.load(std::memory_order_relaxed)) {
    preroll_emit(PREROLL_INFO, "loop", "main loop event");
    ++loop_events;
    if ((loop_events & 1023) == 0) std::this_thread::sleep_for(50us);
  }
  killer.join();
  preroll_mark("signal", "mark-signal-end");
  preroll_shutdown();
  const auto c = counters();
  std::printf(
      "{\"loop_events\":%ld,\"handler_events\":%ld,\"events_written\":%llu,\"dropped_nested\":%llu,"
      "\"overwritten\":%llu}\n",
      loop_events + 1, g_handler_calls.load(), static_cast<unsigned long long>(c.events_written),
      static_cast<unsigned long long>(c.events_dropped_nested), static_cast<unsigned long long>(c.events_overwritten));
  return 0;
}

int mark_and_idle(const char* stop_file) {
  if (!emit_until([] { return counters().daemon_connected == 1; }, 30s)) return 3;
  emit_filler(10);
  preroll_mark("idle", "mark-then-idle");
  emit_filler(10);
  std::printf("{\"marked\":true}\n");
  std::fflush(stdout);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!std::ifstream(stop_file).good()) {
    if (std::chrono::steady_clock::now() > deadline) return 3;
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: scenario_client MODE [ARGS]\n");
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "churn" && argc == 4) return churn(std::atoi(argv[2]), std::atoi(argv[3]));
  if (mode == "await-daemon") return await_daemon();
  if (mode == "across-restart" && argc == 3) return across_restart(argv[2]);
  if (mode == "crash" && argc == 3) return crash(std::atoi(argv[2]));
  if (mode == "fork") return fork_mode();
  if (mode == "signal" && argc == 3) return signal_mode(std::atoi(argv[2]));
  if (mode == "mark-and-idle" && argc == 3) return mark_and_idle(argv[2]);
  std::fprintf(stderr, "scenario_client: bad mode or arguments\n");
  return 2;
}
