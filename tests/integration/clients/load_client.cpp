// load_client: one client process of the load test (load_test.cpp) and of
// the soak benchmark (bench/reliability/run_soak.sh). THREADS threads emit
// log-like events through the real client library as fast as they can (no
// pacing) for SECONDS seconds; every MARK_EVERY-th event of a thread is
// marked, alternately by the client (preroll_mark, level INFO) and by its
// level (ERROR, which the daemon's default --trigger-level marks). Unmarked
// events are INFO and hold no upper-case letter.
//
//   load_client THREADS SECONDS MARK_EVERY [MESSAGE_SIZE=64] [START_FILE] [RATE]
//
// RATE (events per second of each thread, 0: no pacing) paces the threads:
// a thread that got ahead of RATE sleeps until its schedule catches up.
//
// With START_FILE, the threads wait (up to 120 s) until that file exists, so
// many clients start emitting together. A marked message is
// "mark <pid>/<tid>/<seq>" (seq: the thread's event index, 0-based; the
// marked ones are MARK_EVERY-1, 2*MARK_EVERY-1, ...), unique in a run.
//
// Which marks the library overwrote. preroll_get_counters says how many
// events were overwritten, not which. Each thread therefore watches its own
// lane in the process's segment (found in /proc/self/maps; read only, and
// only what this thread itself wrote): after every emit it compares the
// lane's active ring with the one it was writing, and when the ring changed
// it reads the old ring's overwritten_events, E. The library evicts the
// oldest records of its active ring, so the evicted events of a ring are
// exactly its first E events: those sequence numbers are lost, and the marks
// among them are listed. The sum of E over the thread's rings must equal its
// lane's events_overwritten counter ("overwritten" == "lane_overwritten"),
// which the test checks: the attribution is then complete.
//
// At exit it prints one JSON line: per thread what it emitted and lost, and
// the process counters, e.g.
// {"pid":P,"events":E,"marks":M,"mark_every":K,"attributed":true,
//  "threads":[{"tid":T,"events":E,"marks":M,"rings":R,"overwritten":O,
//              "lane_overwritten":O,"marks_overwritten":[seq,...]},...],
//  "overwritten":O,"bytes_overwritten":B,"dropped_nested":0,"dropped_no_lane":0,
//  "dropped_disabled":0,"truncated":0,"events_written":W,"ring_swaps":S,
//  "swaps_without_spare":X,"daemon_connects":C,"connected_at_end":true,"seconds":60.0}
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "preroll/preroll.h"
#include "preroll/shm/abi.hpp"
#include "preroll/shm/segment_layout.hpp"

namespace shm = preroll::shm;

namespace {

struct ThreadResult {
  pid_t tid = 0;
  std::uint64_t events = 0;
  std::uint64_t marks = 0;
  bool attributed = false;          // its lane was found and watched
  std::uint64_t rings = 0;          // rings it wrote into
  std::uint64_t overwritten = 0;    // sum of the rings' overwritten_events
  std::uint64_t lane_overwritten = 0;  // the lane's counter at the end
  std::string error;                // an attribution inconsistency, if any
  std::vector<std::uint64_t> marks_overwritten;  // seq of each mark among the evicted events
};

bool file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The process's own segment, mapped by the library at its first event.
std::optional<shm::SegmentRef> own_segment() {
  static std::mutex m;
  static std::optional<shm::SegmentRef> found;
  std::lock_guard lock(m);
  if (found) return found;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("/memfd:preroll-segment") == std::string::npos) continue;
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &begin, &end) != 2) continue;
    const auto* h = reinterpret_cast<const shm::SegmentHeader*>(begin);
    if (h->magic != shm::kSegmentMagic || h->pid != static_cast<std::uint32_t>(::getpid()) ||
        h->segment_size > end - begin)
      continue;
    shm::Layout l;
    l.geometry = {h->lane_count, h->rings_per_lane, h->ring_size, h->max_message_size};
    l.lane_table_offset = h->lane_table_offset;
    l.ring_header_offset = h->ring_header_offset;
    l.ring_data_offset = h->ring_data_offset;
    l.segment_size = h->segment_size;
    found = shm::SegmentRef(reinterpret_cast<void*>(begin), l);
    break;
  }
  return found;
}

class LaneWatch {
 public:
  LaneWatch(std::uint64_t mark_every, ThreadResult& out) : mark_every_(mark_every), out_(out) {}

  // After the thread's first event: finds the lane it claimed.
  void start() {
    const auto seg = own_segment();
    if (!seg) {
      out_.error = "segment not found";
      return;
    }
    for (std::uint32_t l = 0; l < seg->layout().geometry.lane_count; ++l) {
      shm::LaneControl& lc = seg->lane(l);
      if (lc.state.load(std::memory_order_acquire) == static_cast<std::uint32_t>(shm::LaneState::active) &&
          lc.tid.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(out_.tid)) {
        seg_ = *seg;
        lane_ = &lc;
        lane_index_ = l;
        ring_ = lc.active_ring.load(std::memory_order_relaxed);
        first_ = 0;
        out_.attributed = true;
        return;
      }
    }
    out_.error = "lane not found";
  }

  // After event `seq` was emitted. A swap happens inside an emit, before the
  // record is written: event `seq` is then the new ring's first.
  void after(std::uint64_t seq) {
    if (lane_ == nullptr) return;
    const std::uint32_t r = lane_->active_ring.load(std::memory_order_relaxed);
    if (r == ring_) return;
    close(seq);
    ring_ = r;
    first_ = seq;
  }

  // After the thread's last event and its flush: no record is written any more.
  void finish(std::uint64_t end) {
    if (lane_ == nullptr) return;
    const std::uint32_t r = lane_->active_ring.load(std::memory_order_relaxed);
    close(end);  // the ring written last, handed over by the flush or still active: no more evictions
    if (r != ring_) ring_ = r;  // the flush activated an empty spare
    out_.lane_overwritten = lane_->events_overwritten.load(std::memory_order_relaxed);
  }

 private:
  // The ring that held events [first_, end) is done with: its first E events
  // were evicted.
  void close(std::uint64_t end) {
    ++out_.rings;
    if (ring_ >= seg_.layout().geometry.rings_per_lane) {
      out_.error = "active ring out of range";
      return;
    }
    const std::uint64_t evicted = seg_.ring_header(lane_index_, ring_).overwritten_events.load(std::memory_order_relaxed);
    if (evicted > end - first_) out_.error = "a ring evicted more events than it was given";
    out_.overwritten += evicted;
    if (mark_every_ == 0 || evicted == 0) return;
    // Marks are at seq = k * mark_every - 1.
    for (std::uint64_t m = ((first_ + 1 + mark_every_ - 1) / mark_every_) * mark_every_ - 1; m < first_ + evicted;
         m += mark_every_)
      out_.marks_overwritten.push_back(m);
  }

  std::uint64_t mark_every_;
  ThreadResult& out_;
  shm::SegmentRef seg_;
  shm::LaneControl* lane_ = nullptr;
  std::uint32_t lane_index_ = 0;
  std::uint32_t ring_ = shm::kNoActiveRing;
  std::uint64_t first_ = 0;
};

void emit_loop(double seconds, std::uint64_t mark_every, std::size_t message_size, double rate, ThreadResult& out) {
  out.tid = ::gettid();
  const pid_t pid = ::getpid();
  std::string filler = "load event: request ok status=200 path=/api/items/";
  while (filler.size() < message_size) filler += "abcdefghijklmnopqrstuvwxyz0123456789";
  char msg[4200];
  LaneWatch watch(mark_every, out);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(seconds));
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t seq = 0;
  for (;; ++seq) {
    // The clock is read every 256 events: the loop is the emit, not the clock.
    if ((seq & 255) == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (rate > 0) {
        const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(static_cast<double>(seq) / rate));
        if (due > now) std::this_thread::sleep_until(std::min(due, deadline));
      }
    }
    if (mark_every != 0 && (seq + 1) % mark_every == 0) {
      const int n = std::snprintf(msg, sizeof msg, "mark %d/%d/%llu", static_cast<int>(pid), static_cast<int>(out.tid),
                                  static_cast<unsigned long long>(seq));
      // Alternate the two ways an event gets marked.
      if (out.marks % 2 == 0)
        preroll_mark_n(PREROLL_INFO, "load", 4, msg, static_cast<std::size_t>(n));
      else
        preroll_emit_n(PREROLL_ERROR, "load", 4, msg, static_cast<std::size_t>(n));
      ++out.marks;
    } else {
      const int n = std::snprintf(msg, sizeof msg, "t%d seq=%010llu ", static_cast<int>(out.tid),
                                  static_cast<unsigned long long>(seq));
      const std::size_t len = std::max<std::size_t>(message_size, static_cast<std::size_t>(n));
      std::copy_n(filler.data(), len - static_cast<std::size_t>(n), msg + n);
      preroll_emit_n(PREROLL_INFO, "load", 4, msg, len);
    }
    if (seq == 0)
      watch.start();
    else
      watch.after(seq);
  }
  out.events = seq;
  preroll_flush();
  watch.finish(seq);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 7) {
    std::fprintf(stderr, "usage: load_client THREADS SECONDS MARK_EVERY [MESSAGE_SIZE] [START_FILE] [RATE]\n");
    return 2;
  }
  const unsigned threads = static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10));
  const double seconds = std::strtod(argv[2], nullptr);
  const std::uint64_t mark_every = std::strtoull(argv[3], nullptr, 10);
  const std::size_t message_size = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64;
  const std::string start_file = argc > 5 ? argv[5] : "";
  const double rate = argc > 6 ? std::strtod(argv[6], nullptr) : 0;
  if (threads == 0 || threads > 64 || !(seconds > 0) || message_size < 32 || message_size > 4000 || !(rate >= 0))
    return 2;

  if (!start_file.empty()) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!file_exists(start_file)) {
      if (std::chrono::steady_clock::now() > give_up) return 3;  // the test forgot us
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<ThreadResult> results(threads);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back(emit_loop, seconds, mark_every, message_size, rate, std::ref(results[t]));
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  preroll_counters before{};
  preroll_get_counters(&before);
  preroll_shutdown();
  preroll_counters c{};
  preroll_get_counters(&c);

  std::uint64_t events = 0, marks = 0;
  bool attributed = true;
  std::string per_thread;
  for (const auto& r : results) {
    events += r.events;
    marks += r.marks;
    attributed = attributed && r.attributed && r.error.empty();
    std::string lost;
    for (const auto m : r.marks_overwritten) lost += (lost.empty() ? "" : ",") + std::to_string(m);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s{\"tid\":%d,\"events\":%llu,\"marks\":%llu,\"rings\":%llu,\"overwritten\":%llu,"
                  "\"lane_overwritten\":%llu,\"error\":\"%s\",\"marks_overwritten\":[",
                  per_thread.empty() ? "" : ",", static_cast<int>(r.tid), static_cast<unsigned long long>(r.events),
                  static_cast<unsigned long long>(r.marks), static_cast<unsigned long long>(r.rings),
                  static_cast<unsigned long long>(r.overwritten), static_cast<unsigned long long>(r.lane_overwritten),
                  r.error.c_str());
    per_thread += buf + lost + "]}";
  }
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf(
      "{\"pid\":%d,\"events\":%llu,\"marks\":%llu,\"mark_every\":%llu,\"attributed\":%s,\"threads\":[%s],"
      "\"overwritten\":%llu,\"bytes_overwritten\":%llu,\"dropped_nested\":%llu,\"dropped_no_lane\":%llu,"
      "\"dropped_disabled\":%llu,\"truncated\":%llu,\"events_written\":%llu,\"ring_swaps\":%llu,"
      "\"swaps_without_spare\":%llu,\"daemon_connects\":%u,\"connected_at_end\":%s,\"seconds\":%.3f}\n",
      static_cast<int>(::getpid()), u(events), u(marks), u(mark_every), attributed ? "true" : "false",
      per_thread.c_str(), u(c.events_overwritten), u(c.bytes_overwritten), u(c.events_dropped_nested),
      u(c.events_dropped_no_lane), u(c.events_dropped_disabled), u(c.events_truncated), u(c.events_written),
      u(c.ring_swaps), u(c.swaps_without_spare), c.daemon_connects, before.daemon_connected != 0 ? "true" : "false",
      elapsed);
  return 0;
}
