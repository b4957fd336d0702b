// preroll-gen: a load generator linked to the client library. Each of N
// threads emits M log-like events of B message bytes; every K-th event of a
// thread carries the mark text (level ERROR). Prints one JSON line with what
// was emitted and what the library counted as lost.
//
// Marked messages look like "t03 seq=0000012345 ERROR ..." so a reader can
// check each one individually; unmarked messages never contain upper-case
// letters, so the default mark text cannot occur in them by accident.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "preroll/preroll.h"

namespace po = boost::program_options;

namespace {

struct Options {
  unsigned threads = 1;
  std::uint64_t events = 100000;  // per thread
  unsigned message_size = 64;
  std::uint64_t mark_every = 0;   // 0: never
  std::string mark_text = "ERROR";
  bool client_mark = false;       // use preroll_mark() instead of text
  double rate = 0;                // events per second per thread; 0: as fast as possible
};

struct ThreadResult {
  std::uint64_t events = 0;
  std::uint64_t marked = 0;
  std::uint64_t bytes = 0;
};

void run_thread(const Options& o, unsigned index, ThreadResult& out) {
  std::string msg;
  msg.reserve(o.message_size + o.mark_text.size() + 64);
  char head[64];
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < o.events; ++i) {
    if (o.rate > 0 && (i & 63) == 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(i) / o.rate);
      std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
    }
    const bool marked = o.mark_every != 0 && (i + 1) % o.mark_every == 0;
    const int n = std::snprintf(head, sizeof head, "t%02u seq=%010llu ", index, static_cast<unsigned long long>(i));
    msg.assign(head, static_cast<std::size_t>(n));
    if (marked && !o.client_mark) msg += o.mark_text + " ";
    msg += marked ? "request failed: upstream timeout" : "request ok: status=200 path=/api/items";
    if (msg.size() < o.message_size) msg.append(o.message_size - msg.size(), '.');
    if (msg.size() > o.message_size && !marked) msg.resize(o.message_size);
    if (marked && o.client_mark) {
      preroll_mark_n(PREROLL_ERROR, "gen", 3, msg.data(), msg.size());
    } else {
      preroll_emit_n(marked ? PREROLL_ERROR : PREROLL_INFO, "gen", 3, msg.data(), msg.size());
    }
    ++out.events;
    out.marked += marked ? 1 : 0;
    out.bytes += msg.size();
  }
  preroll_flush();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  po::options_description desc("preroll-gen options");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help")
    ("threads", po::value(&o.threads)->default_value(1), "emitting threads")
    ("events", po::value(&o.events)->default_value(100000), "events per thread")
    ("message-size", po::value(&o.message_size)->default_value(64), "message bytes per event (marked ones may be longer by the mark text)")
    ("mark-every", po::value(&o.mark_every)->default_value(0), "every K-th event of a thread is marked (0: none)")
    ("mark-text", po::value(&o.mark_text)->default_value("ERROR"), "text put in marked messages")
    ("client-mark", po::bool_switch(&o.client_mark), "mark with preroll_mark() instead of the mark text")
    ("rate", po::value(&o.rate)->default_value(0), "events per second per thread (0: unlimited)");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "preroll-gen: " << e.what() << "\nTry 'preroll-gen --help'.\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: preroll-gen [OPTIONS]\n\nEmits log-like events through libpreroll and prints a JSON summary.\n\n"
              << desc;
    return 0;
  }
  if (o.threads == 0 || o.threads > 4096) {
    std::cerr << "preroll-gen: --threads must be within 1..4096\n";
    return 2;
  }
  if (o.message_size > 65535) {
    std::cerr << "preroll-gen: --message-size must be at most 65535\n";
    return 2;
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ThreadResult> results(o.threads);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < o.threads; ++t) threads.emplace_back(run_thread, std::cref(o), t, std::ref(results[t]));
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  preroll_counters before{};
  preroll_get_counters(&before);
  preroll_shutdown();

  ThreadResult total;
  for (const auto& r : results) {
    total.events += r.events;
    total.marked += r.marked;
    total.bytes += r.bytes;
  }
  preroll_counters c{};
  preroll_get_counters(&c);
  std::printf(
      "{\"events\":%llu,\"marked\":%llu,\"bytes\":%llu,\"threads\":%u,\"seconds\":%.6f,"
      "\"events_per_second\":%.0f,\"ring_swaps\":%llu,\"events_overwritten\":%llu,\"events_dropped\":%llu,"
      "\"events_truncated\":%llu,\"daemon_connected\":%s}\n",
      static_cast<unsigned long long>(total.events), static_cast<unsigned long long>(total.marked),
      static_cast<unsigned long long>(total.bytes), o.threads, seconds,
      seconds > 0 ? static_cast<double>(total.events) / seconds : 0.0,
      static_cast<unsigned long long>(c.ring_swaps), static_cast<unsigned long long>(c.events_overwritten),
      static_cast<unsigned long long>(c.events_dropped_nested + c.events_dropped_no_lane + c.events_dropped_disabled),
      static_cast<unsigned long long>(c.events_truncated), before.daemon_connected ? "true" : "false");
  return 0;
}
