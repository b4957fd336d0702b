#include "runtime.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "preroll/shm/segment_counters.hpp"
#include "preroll/shm/paths.hpp"
#include "preroll/shm/tsc.hpp"

namespace preroll::client {

namespace {

enum class State : int { uninitialized, ready, disabled, shut_down };

std::atomic<Runtime*> g_runtime{nullptr};
std::atomic<int> g_state{static_cast<int>(State::uninitialized)};
std::atomic<std::uint64_t> g_epoch{1};  // bumped in a fork child
std::atomic<std::uint64_t> g_dropped_disabled{0};
std::mutex g_init_mutex;
// Set by preroll_configure before the first event; guarded by g_init_mutex.
shm::Geometry g_configured_geometry;
std::string g_configured_socket;

std::uint64_t clock_ns(clockid_t id) noexcept {
  timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint32_t env_u32(const char* name, std::uint32_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 10);
  if (*end != '\0' || x > 0xFFFFFFFFull) {
    std::fprintf(stderr, "preroll: ignoring %s=%s (not a number)\n", name, v);
    return fallback;
  }
  return static_cast<std::uint32_t>(x);
}

// With no explicit message limit, a small ring gets the largest limit that
// still fits a full record four times (the ABI's rule), not an error.
void fit_default_max_message(shm::Geometry& g) {
  const std::uint32_t quarter = g.ring_size / 4;
  const std::uint32_t overhead = 16 + shm::kMaxNameLen + shm::kRecordAlign;
  if (quarter > overhead && shm::record_size(shm::kMaxNameLen, g.max_message_size) > quarter)
    g.max_message_size = quarter - overhead;
}

shm::Geometry geometry_from_env(const shm::Geometry& base) {
  shm::Geometry e;
  e.ring_size = env_u32("PREROLL_RING_SIZE", base.ring_size);
  e.rings_per_lane = env_u32("PREROLL_RINGS_PER_LANE", base.rings_per_lane);
  e.lane_count = env_u32("PREROLL_LANES", base.lane_count);
  e.max_message_size = env_u32("PREROLL_MAX_MESSAGE", base.max_message_size);
  if (std::getenv("PREROLL_MAX_MESSAGE") == nullptr) fit_default_max_message(e);
  if (auto err = shm::check_geometry(e)) {
    std::fprintf(stderr, "preroll: ignoring the PREROLL_* geometry (%s)\n", err->c_str());
    return base;
  }
  return e;
}

// PREROLL_PROCESS_NAME when set (a wrapper such as preroll-run names the
// capture after the program it runs), else the kernel's name of the
// process. At most kProcessNameSize - 1 bytes, NUL padded.
void read_process_name(char (&out)[shm::kProcessNameSize]) {
  std::memset(out, 0, sizeof out);
  if (const char* name = std::getenv("PREROLL_PROCESS_NAME"); name != nullptr && *name != '\0') {
    std::memcpy(out, name, ::strnlen(name, sizeof out - 1));
    return;
  }
  if (FILE* f = std::fopen("/proc/self/comm", "re")) {
    if (std::fgets(out, sizeof out, f) != nullptr) {
      if (char* nl = std::strchr(out, '\n')) *nl = '\0';
    }
    std::fclose(f);
  }
}

void on_exit_shutdown() { preroll_shutdown(); }

void fork_child() noexcept { forget_runtime_in_child(); }

}  // namespace

void forget_runtime_in_child() noexcept {
  // The child is a new process with a copy of the parent's memory: it must
  // never write into the parent's lanes, nor keep the parent's connection
  // open (the daemon would not see the parent go). It captures into a new
  // segment from its first event.
  g_epoch.fetch_add(1, std::memory_order_relaxed);
  forget_thread_lane();
  Runtime* rt = g_runtime.exchange(nullptr, std::memory_order_acq_rel);
  if (rt != nullptr) {
    rt->link_->abandon();
    rt->memfd_.reset();
    // Unmap by hand and leak the object: its destructor would touch state
    // shared with the parent's threads, which do not exist here.
    ::munmap(rt->mapping_.data(), rt->mapping_.size());
  }
  if (g_state.load(std::memory_order_relaxed) == static_cast<int>(State::ready))
    g_state.store(static_cast<int>(State::uninitialized), std::memory_order_relaxed);
  new (&g_init_mutex) std::mutex();  // a parent thread may have held it at fork
}

Runtime::Runtime(const shm::Geometry& g, std::uint64_t epoch) : epoch_(epoch) {
  const shm::Layout layout = shm::compute_layout(g);
  memfd_ = shm::create_sealed_memfd("preroll-segment", layout.segment_size);
  mapping_ = shm::MappedSegment(memfd_.get(), layout.segment_size);
  seg_ = shm::SegmentRef(mapping_.data(), layout);

  // The memfd is zero-filled: all lanes free, all queues empty. Geometry and
  // free queues, then who we are and our clock, all before the descriptor is
  // sent, which orders these writes before the daemon's reads.
  shm::init_segment(seg_);
  shm::SegmentHeader& h = seg_.header();
  h.pid = static_cast<std::uint32_t>(::getpid());
  h.uid = static_cast<std::uint32_t>(::getuid());
  h.created_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
  h.created_realtime_ns = clock_ns(CLOCK_REALTIME);
  if (shm::tsc_is_reliable()) {
    // A short calibration (once per process, at its first event) so the
    // segment is self-describing; the daemon converts with its own, longer
    // calibration of the same machine-wide TSC.
    const shm::TscCalibration cal = shm::calibrate_tsc(2'000'000);
    if (cal.mult != 0) {
      h.clock_source = static_cast<std::uint32_t>(shm::ClockSource::tsc);
      h.tsc_reference = cal.reference.tsc;
      h.tsc_reference_ns = cal.reference.monotonic_ns;
      h.tsc_ns_mult = cal.mult;
      h.tsc_ns_shift = cal.shift;
    }
  }
  read_process_name(h.process_name);

  writers_ = std::make_unique<LaneWriter[]>(g.lane_count);
  std::string socket = shm::client_socket_path();
  if (std::getenv("PREROLL_SOCKET") == nullptr && !g_configured_socket.empty()) socket = g_configured_socket;
  link_ = std::make_unique<DaemonLink>(std::move(socket), memfd_.get(), layout.segment_size);
  for (std::uint32_t l = 0; l < g.lane_count; ++l) writers_[l].init(seg_, l, link_.get());
  link_->connect_now();
}

Runtime* Runtime::peek() noexcept { return g_runtime.load(std::memory_order_acquire); }

Runtime* Runtime::get() noexcept {
  const int state = g_state.load(std::memory_order_acquire);
  if (state == static_cast<int>(State::ready)) return g_runtime.load(std::memory_order_acquire);
  if (state != static_cast<int>(State::uninitialized)) return nullptr;
  std::lock_guard lock(g_init_mutex);
  if (Runtime* rt = g_runtime.load(std::memory_order_acquire)) return rt;
  if (g_state.load(std::memory_order_relaxed) != static_cast<int>(State::uninitialized)) return nullptr;

  static std::once_flag process_hooks;
  std::call_once(process_hooks, [] {
    std::atexit(on_exit_shutdown);
    ::pthread_atfork(nullptr, nullptr, fork_child);
  });

  if (const char* d = std::getenv("PREROLL_DISABLE"); d != nullptr && std::strcmp(d, "1") == 0) {
    g_state.store(static_cast<int>(State::disabled), std::memory_order_release);
    return nullptr;
  }
  try {
    auto* rt = new Runtime(geometry_from_env(g_configured_geometry), g_epoch.load(std::memory_order_relaxed));
    g_runtime.store(rt, std::memory_order_release);
    g_state.store(static_cast<int>(State::ready), std::memory_order_release);
    return rt;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preroll: capture disabled: %s\n", e.what());
    g_state.store(static_cast<int>(State::disabled), std::memory_order_release);
    return nullptr;
  }
}

LaneWriter* Runtime::claim_lane() noexcept {
  const std::uint32_t tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  const std::uint32_t lanes = seg_.layout().geometry.lane_count;
  for (std::uint32_t l = 0; l < lanes; ++l) {
    auto& state = seg_.lane(l).state;
    std::uint32_t expected = static_cast<std::uint32_t>(shm::LaneState::free);
    if (state.load(std::memory_order_relaxed) != expected) continue;
    // Edge FREE -> ACTIVE [client]: acq_rel acquires the daemon's release
    // that freed the lane (its queue positions and ring headers).
    if (!state.compare_exchange_strong(expected, static_cast<std::uint32_t>(shm::LaneState::active),
                                       std::memory_order_acq_rel, std::memory_order_relaxed))
      continue;
    seg_.header().lanes_claimed_total.fetch_add(1, std::memory_order_relaxed);
    if (writers_[l].start(tid, claims_.fetch_add(1, std::memory_order_relaxed))) return &writers_[l];
    // No ring in its free queue (corrupt segment): give the lane to the
    // daemon to check, and try the next.
    state.store(static_cast<std::uint32_t>(shm::LaneState::retired), std::memory_order_release);
  }
  return nullptr;
}

void Runtime::shutdown() noexcept {
  int expected = static_cast<int>(State::ready);
  if (!g_state.compare_exchange_strong(expected, static_cast<int>(State::shut_down), std::memory_order_acq_rel))
    return;
  if (LaneWriter* w = this_thread_lane()) w->flush();
  link_->goodbye();
}

void Runtime::fill_counters(preroll_counters& out) const noexcept {
  std::memset(&out, 0, sizeof out);
  const shm::SegmentCounterTotals t = shm::sum_counters(seg_);
  out.events_written = t.events_written;
  out.bytes_written = t.bytes_written;
  out.events_overwritten = t.events_overwritten;
  out.bytes_overwritten = t.bytes_overwritten;
  out.events_truncated = t.events_truncated;
  out.events_dropped_nested = t.events_dropped_nested;
  out.ring_swaps = t.ring_swaps;
  out.swaps_without_spare = t.swaps_without_spare;
  out.lanes_in_use = t.lanes_active;
  out.events_dropped_no_lane = t.events_dropped_no_lane;
  out.events_dropped_disabled = g_dropped_disabled.load(std::memory_order_relaxed);
  out.daemon_connected = link_->connected() ? 1 : 0;
  out.daemon_connects = link_->connects();
}

void count_dropped_disabled() noexcept { g_dropped_disabled.fetch_add(1, std::memory_order_relaxed); }

}  // namespace preroll::client

extern "C" int preroll_get_counters(preroll_counters* out) {
  if (out == nullptr) return -1;
  preroll::client::Runtime* rt = preroll::client::Runtime::peek();
  if (rt == nullptr) {
    std::memset(out, 0, sizeof *out);
    out->events_dropped_disabled = preroll::client::g_dropped_disabled.load(std::memory_order_relaxed);
    return -1;
  }
  rt->fill_counters(*out);
  return 0;
}

extern "C" int preroll_configure(const preroll_config* config) {
  using namespace preroll;
  if (config == nullptr) return -1;
  std::lock_guard lock(client::g_init_mutex);
  if (client::g_state.load(std::memory_order_acquire) != static_cast<int>(client::State::uninitialized)) return -1;
  shm::Geometry g;
  if (config->ring_size != 0) g.ring_size = config->ring_size;
  if (config->rings_per_lane != 0) g.rings_per_lane = config->rings_per_lane;
  if (config->lanes != 0) g.lane_count = config->lanes;
  if (config->max_message != 0) {
    g.max_message_size = config->max_message;
  } else {
    client::fit_default_max_message(g);
  }
  if (shm::check_geometry(g)) return -1;
  client::g_configured_geometry = g;
  client::g_configured_socket = config->socket_path != nullptr ? config->socket_path : "";
  return 0;
}

extern "C" void preroll_shutdown(void) {
  if (preroll::client::Runtime* rt = preroll::client::Runtime::peek()) rt->shutdown();
}
