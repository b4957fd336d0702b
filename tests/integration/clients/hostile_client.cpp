// hostile_client: a client that breaks the rules, for hostile_client_test.cpp.
//
// It plays a client through the shm_protocol primitives only (never the
// client library, which would not let it misbehave): it makes a segment,
// connects to $PREROLL_SOCKET, sends HELLO with the descriptor, and — for
// the attacks on a live segment — first proves that the daemon is attached
// and reading (a client-marked window is submitted and handed back). Then it
// applies ONE attack, rings the doorbell and stays alive, so the daemon has to
// find out by itself, not because the client went away.
//
//   hostile_client ATTACK [SEED]
//
// Environment: PREROLL_SOCKET (required); HOSTILE_LINGER_S, seconds it stays
// alive after the attack waiting for the daemon to close the connection
// (default 120; SIGTERM ends it sooner).
//
// Stdout, one JSON object per line (flushed at once):
//   {"phase":"attached","pid":P}                   the daemon drained the first window
//   {"phase":"attacked","attack":A,"seed":S,"expect":E,...}
//   {"phase":"served-after"}                        a valid marked window submitted after
//                                                    the attack came back (expect corrupt|served)
//   {"phase":"closed"}                               the daemon closed the connection
//   {"phase":"linger-timeout"}                       it did not within HOSTILE_LINGER_S
//
// E says what the daemon must do, by the protocol's own rules:
//   faulty     the segment's protocol state is broken: report, detach, close
//   corrupt    one ring is impossible: count it, report it, skip it, keep serving
//   served     nasty but legal (or random bytes that happen to parse): keep serving
//   rejected   refuse the HELLO (or the second one) and close
//   protocol   a malformed message: count a protocol error and close
//   closed     the daemon ends the connection (a zero-length message reads as EOF)
//
// Attacks on a live segment (after "attached"):
//   header-garbage SEED       random bytes over the whole 4 KiB SegmentHeader
//   lane-garbage SEED         random bytes over every LaneControl (queues included)
//   queue-garbage SEED        random bytes over the submit and free queues only
//   ring-header-garbage SEED  random bytes over every RingHeader, then submit a ring
//   ring-garbage SEED         random bytes over a ring's data, random aligned committed, submit
//   active-ring-garbage SEED  random header and bytes in the lane's ACTIVE ring (flush / salvage path)
//   length-out-of-range SEED  committed / start / wrap_end / record lengths beyond the ring (variant by seed)
//   index-out-of-range SEED   a ring index >= rings_per_lane in the submit queue
//   double-submit             one ring index pushed twice (an unmarked window: held as pre-roll)
//   double-submit-marked      the same with a marked window (written and handed back in between)
//   resubmit-free-ring        a ring the daemon handed back submitted again without taking it
//   free-head-backwards       the free queue's head (client-owned) moved back one slot
//   free-head-ahead           the free queue's head moved past its tail
//   submit-tail-backwards     the submit queue's tail (client-owned) moved back
//   bad-magic | bad-size | short-message | oversized-message | unknown-type | empty-message
//   hello-twice | doorbell-with-fds | doorbell-many-fds | goodbye-with-fd
//   doorbell-flood            doorbells as fast as the socket takes them, for ~2 s
//
// Attacks at HELLO (no "attached" phase):
//   unsealed-memfd            no seals; after the answer it shrinks the memfd to 0
//   grow-sealed-only | shrink-sealed-only | write-sealed-memfd | readonly-fd
//   pipe-fd | socket-fd | file-fd (a regular file on disk) | dev-zero-fd
//   empty-memfd | oversized-segment (2 GiB, sparse) | size-mismatch
//   bad-header SEED           one write-once header field made impossible (field by seed)
//   hello-no-fd | hello-two-fds
//
// A faulty client that keeps coming back:
//   reconnect-faulty COUNT    COUNT times at once: a fresh segment with a ring index out of
//                             range in its submit queue, HELLO, read the daemon's REFUSED
//                             and wait for the close. Prints
//                             {"phase":"reconnected","attempts":N,"closed":C,"reasons":{"5":F,"6":Q,...}}
//                             (the RefuseReason values: 5 faulty, 6 quarantined; "none" when
//                             the daemon closed without saying why)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/event_record.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "preroll/shm/spsc_index_queue.hpp"
#include "preroll/shm/validate.hpp"
#include "preroll/shm/wire.hpp"

namespace {

using namespace std::chrono_literals;
namespace shm = preroll::shm;
namespace wire = preroll::shm::wire;

using FreeConsumer = shm::SpscConsumer<std::uint32_t, shm::kMaxRingsPerLane>;
using SubmitProducer = shm::SpscProducer<std::uint32_t, shm::kMaxRingsPerLane>;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "hostile_client: %s%s%s\n", what.c_str(), errno != 0 ? ": " : "",
               errno != 0 ? std::strerror(errno) : "");
  std::exit(2);
}

void say(const std::string& json) {
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

std::uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

shm::Geometry geometry() {
  shm::Geometry g;
  g.lane_count = 2;
  g.rings_per_lane = 4;
  g.ring_size = 8192;
  g.max_message_size = 1024;
  return g;
}

// --- the socket -------------------------------------------------------------

int connect_daemon() {
  const char* path = std::getenv("PREROLL_SOCKET");
  if (path == nullptr) die("PREROLL_SOCKET is not set");
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die(std::string("connect ") + path);
  return fd;
}

// Sends one message with `fds` attached; false on EAGAIN/EPIPE and the like.
bool send_raw(int sock, const void* data, std::size_t size, const std::vector<int>& fds = {}, bool wait = true) {
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<unsigned char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    const ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
    if (n == static_cast<ssize_t>(size)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

bool send_hello(int sock, std::uint64_t segment_size, const std::vector<int>& fds) {
  std::array<std::byte, wire::kHelloSize> m;
  wire::encode_hello(m, {shm::kAbiVersion, static_cast<std::uint32_t>(::getpid()), segment_size});
  return send_raw(sock, m.data(), m.size(), fds);
}

bool send_doorbell(int sock, std::uint32_t lane = 0, bool wait = true) {
  std::array<std::byte, wire::kDoorbellSize> m;
  wire::encode_doorbell(m, {lane});
  return send_raw(sock, m.data(), m.size(), {}, wait);
}

// True when the daemon has closed the connection (all it ever sends is one
// REFUSED just before it closes: reading on reaches the end of file).
bool wait_closed(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{sock, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) die("poll");
    if (r > 0) {
      char b;
      const ssize_t n = ::recv(sock, &b, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
  }
}

std::chrono::seconds linger_time() {
  const char* s = std::getenv("HOSTILE_LINGER_S");
  return std::chrono::seconds(s != nullptr ? std::atoi(s) : 120);
}

// After the attack: stay alive until the daemon hangs up (or the linger ends).
int linger(int sock) {
  if (wait_closed(sock, linger_time())) {
    say(R"({"phase":"closed"})");
    return 0;
  }
  say(R"({"phase":"linger-timeout"})");
  return 3;
}

// --- the segment --------------------------------------------------------------

enum class SealMode { sealed, none, grow_only, shrink_only };

struct Segment {
  int fd = -1;
  shm::Layout layout;
  shm::SegmentRef ref;
  std::uint64_t sequence = 0;
  std::uint64_t clock = 0;
};

void fill_identity(const shm::SegmentRef& ref) {
  shm::init_segment(ref);
  shm::SegmentHeader& h = ref.header();
  h.pid = static_cast<std::uint32_t>(::getpid());
  h.uid = static_cast<std::uint32_t>(::getuid());
  h.created_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
  h.created_realtime_ns = clock_ns(CLOCK_REALTIME);
  std::strncpy(h.process_name, "hostile-client", sizeof h.process_name - 1);
}

Segment make_segment(SealMode mode) {
  Segment s;
  s.layout = shm::compute_layout(geometry());
  if (mode == SealMode::sealed) {
    s.fd = shm::create_sealed_memfd("hostile-segment", s.layout.segment_size).release();
  } else {
    s.fd = ::memfd_create("hostile-segment", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (s.fd < 0) die("memfd_create");
    if (::ftruncate(s.fd, static_cast<off_t>(s.layout.segment_size)) != 0) die("ftruncate");
    const int seals = mode == SealMode::grow_only ? F_SEAL_GROW : mode == SealMode::shrink_only ? F_SEAL_SHRINK : 0;
    if (seals != 0 && ::fcntl(s.fd, F_ADD_SEALS, seals) != 0) die("F_ADD_SEALS");
  }
  void* p = ::mmap(nullptr, s.layout.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
  if (p == MAP_FAILED) die("mmap");
  s.ref = shm::SegmentRef(p, s.layout);
  fill_identity(s.ref);
  s.clock = clock_ns(CLOCK_MONOTONIC);
  return s;
}

struct Event {
  std::string message;
  std::uint8_t level = 2;
  std::uint8_t flags = 0;
};

// Takes a spare ring of `lane` from its free queue, as the writer would.
std::uint32_t take_ring(Segment& s, std::uint32_t lane) {
  FreeConsumer fq(&s.ref.lane(lane).free_queue);
  std::uint32_t ring = 0;
  if (fq.try_pop(ring) != shm::QueueStatus::ok || ring >= s.layout.geometry.rings_per_lane)
    die("no spare ring in lane " + std::to_string(lane));
  return ring;
}

// Writes `events` as the ring's records from offset 0 and sets its header as
// a writer activating and filling it would.
void fill_ring(Segment& s, std::uint32_t lane, std::uint32_t ring, const std::vector<Event>& events,
               shm::RingState state = shm::RingState::submitted) {
  unsigned char* data = s.ref.ring_data(lane, ring);
  std::uint32_t pos = 0;
  for (const Event& e : events) {
    const auto size = shm::record_size(1, static_cast<std::uint32_t>(e.message.size()));
    if (pos + size > s.layout.geometry.ring_size) die("events do not fit the ring");
    shm::write_record(data + pos, ++s.clock, e.level, e.flags, "h", 1, e.message.data(),
                      static_cast<std::uint16_t>(e.message.size()));
    pos += size;
  }
  shm::RingHeader& h = s.ref.ring_header(lane, ring);
  h.generation.fetch_add(1, std::memory_order_relaxed);
  h.sequence.store(++s.sequence, std::memory_order_relaxed);
  h.overwritten_events.store(0, std::memory_order_relaxed);
  h.overwritten_bytes.store(0, std::memory_order_relaxed);
  h.start.store(0, std::memory_order_relaxed);
  h.wrap_end.store(0, std::memory_order_relaxed);
  h.state.store(static_cast<std::uint32_t>(state), std::memory_order_relaxed);
  h.committed.store(pos, std::memory_order_release);
}

void push_submit(Segment& s, std::uint32_t lane, std::uint32_t value) {
  SubmitProducer sq(&s.ref.lane(lane).submit_queue);
  if (sq.try_push(value) != shm::QueueStatus::ok) die("submit queue push failed");
}

std::vector<Event> window_events(const std::string& mark) {
  std::vector<Event> ev;
  for (int i = 0; i < 5; ++i) ev.push_back({"hostile filler event " + std::to_string(i)});
  ev.push_back({mark, 4, shm::event_flag::client_marked});
  return ev;
}

// Waits until the daemon has handed `ring` back (state FREE, set by the
// daemon just before its free-queue push).
bool wait_ring_free(Segment& s, std::uint32_t lane, std::uint32_t ring, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (s.ref.ring_header(lane, ring).state.load(std::memory_order_acquire) !=
         static_cast<std::uint32_t>(shm::RingState::free)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  // The push follows the state store: wait for it too.
  FreeConsumer fq(&s.ref.lane(lane).free_queue);
  while (fq.size_hint() == 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// What the daemon's checks make of a ring's current header and bytes.
bool ring_is_valid(Segment& s, std::uint32_t lane, std::uint32_t ring) {
  const shm::RingHeader& h = s.ref.ring_header(lane, ring);
  const auto extent = shm::checked_extent(h.start.load(), h.wrap_end.load(), h.committed.load(),
                                          s.layout.geometry.ring_size);
  if (!extent) return false;
  const auto r = shm::parse_ring(s.ref.ring_data(lane, ring), *extent, s.layout.geometry.max_message_size,
                                 [](const shm::RecordView&) {});
  return r.ok;
}

void random_bytes(std::mt19937_64& rng, void* dst, std::size_t n) {
  auto* p = static_cast<unsigned char*>(dst);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(rng());
}

// --- attacks on a live segment -------------------------------------------------

struct Live {
  Segment seg;
  int sock = -1;
  std::string attack;
  std::uint64_t seed = 0;
};

void attacked(const Live& l, const std::string& expect, const std::string& extra = "") {
  say("{\"phase\":\"attacked\",\"attack\":\"" + l.attack + "\",\"seed\":" + std::to_string(l.seed) +
      ",\"expect\":\"" + expect + "\"" + extra + "}");
}

// The client is still served: a valid marked window submitted now comes back.
int prove_still_served(Live& l) {
  const std::uint32_t ring = take_ring(l.seg, 0);
  fill_ring(l.seg, 0, ring,
            window_events("hostile-after-attack pid=" + std::to_string(::getpid()) + " seed=" + std::to_string(l.seed)));
  push_submit(l.seg, 0, ring);
  send_doorbell(l.sock);
  if (!wait_ring_free(l.seg, 0, ring, 30s)) {
    say(R"({"phase":"not-served-after"})");
    return 4;
  }
  say(R"({"phase":"served-after"})");
  return linger(l.sock);
}

int after(Live& l, const std::string& expect, const std::string& extra = "") {
  send_doorbell(l.sock);
  attacked(l, expect, extra);
  if (expect == "corrupt" || expect == "served") return prove_still_served(l);
  return linger(l.sock);
}

int run_live(Live& l) {
  Segment& s = l.seg;
  const shm::Geometry g = s.layout.geometry;
  std::mt19937_64 rng(l.seed);
  const std::string& a = l.attack;

  if (a == "header-garbage") {
    random_bytes(rng, &s.ref.header(), sizeof(shm::SegmentHeader));
    return after(l, "faulty");
  }
  if (a == "lane-garbage") {
    random_bytes(rng, &s.ref.lane(0), sizeof(shm::LaneControl) * g.lane_count);
    return after(l, "faulty");
  }
  if (a == "queue-garbage") {
    for (std::uint32_t lane = 0; lane < g.lane_count; ++lane) {
      random_bytes(rng, &s.ref.lane(lane).submit_queue, sizeof(shm::RingIndexQueue));
      random_bytes(rng, &s.ref.lane(lane).free_queue, sizeof(shm::RingIndexQueue));
    }
    return after(l, "faulty");
  }
  if (a == "ring-header-garbage") {
    const std::uint32_t ring = take_ring(s, 0);
    fill_ring(s, 0, ring, window_events("hostile-garbage-header"));
    random_bytes(rng, &s.ref.ring_header(0, 0), sizeof(shm::RingHeader) * g.lane_count * g.rings_per_lane);
    const bool valid = ring_is_valid(s, 0, ring);
    push_submit(s, 0, ring);
    return after(l, valid ? "served" : "corrupt");
  }
  if (a == "ring-garbage") {
    const std::uint32_t ring = take_ring(s, 0);
    fill_ring(s, 0, ring, {});
    random_bytes(rng, s.ref.ring_data(0, ring), g.ring_size);
    const auto committed = static_cast<std::uint32_t>(8 * (1 + rng() % (g.ring_size / 8)));
    s.ref.ring_header(0, ring).committed.store(committed, std::memory_order_release);
    const bool valid = ring_is_valid(s, 0, ring);
    push_submit(s, 0, ring);
    return after(l, valid ? "served" : "corrupt", ",\"committed\":" + std::to_string(committed));
  }
  if (a == "active-ring-garbage") {
    // The lane's writer "is filling" a ring whose header and bytes are
    // random: the daemon reads it for --flush-after, snapshots and salvage.
    shm::LaneControl& lc = s.ref.lane(0);
    const std::uint32_t ring = take_ring(s, 0);
    random_bytes(rng, s.ref.ring_data(0, ring), g.ring_size);
    random_bytes(rng, &s.ref.ring_header(0, ring), sizeof(shm::RingHeader));
    s.ref.ring_header(0, ring).state.store(static_cast<std::uint32_t>(shm::RingState::active));
    lc.active_ring.store(ring, std::memory_order_release);
    return after(l, "served");
  }
  if (a == "length-out-of-range") {
    const std::uint32_t ring = take_ring(s, 0);
    std::vector<Event> ev = window_events("hostile-bad-length");
    fill_ring(s, 0, ring, ev);
    shm::RingHeader& h = s.ref.ring_header(0, ring);
    const std::uint32_t valid_end = h.committed.load();
    unsigned char* data = s.ref.ring_data(0, ring);
    const auto rnd = [&](std::uint64_t n) { return static_cast<std::uint32_t>(rng() % n); };
    const std::uint32_t variant = static_cast<std::uint32_t>(l.seed % 8);
    shm::EventRecordHeader rec;
    std::memcpy(&rec, data, sizeof rec);
    switch (variant) {
      case 0:  // committed past the ring
        h.committed.store(g.ring_size + 8 * (1 + rnd(100000)));
        break;
      case 1:  // committed near 4 GiB
        h.committed.store(0xFFFFFFF8u - 8 * rnd(1000));
        break;
      case 2:  // committed not on a record boundary
        h.committed.store(valid_end + 1 + rnd(7));
        break;
      case 3:  // wrapped extent that no writer produces: start > wrap_end, or wrap_end past the ring
        if (rnd(2) == 0) {
          h.start.store(4096 + 8 * rnd(400));
          h.wrap_end.store(8 * (1 + rnd(400)));
        } else {
          h.start.store(valid_end + 8 * rnd(100));
          h.wrap_end.store(g.ring_size + 8 * (1 + rnd(100000)));
        }
        break;
      case 4:  // message longer than the segment's max_message_size
        rec.message_len = static_cast<std::uint16_t>(g.max_message_size + 1 + rnd(65535 - g.max_message_size));
        std::memcpy(data, &rec, sizeof rec);
        break;
      case 5: {  // the last record's lengths run past committed (and past the ring)
        std::uint32_t off = 0, last = 0;
        for (std::size_t i = 0; i < ev.size(); ++i) {
          last = off;
          off += shm::record_size(1, static_cast<std::uint32_t>(ev[i].message.size()));
        }
        std::memcpy(&rec, data + last, sizeof rec);
        rec.name_len = 255;
        rec.message_len = static_cast<std::uint16_t>(g.max_message_size - rnd(64));
        std::memcpy(data + last, &rec, sizeof rec);
        // The ring ends right after this record: its lengths reach past the ring.
        h.committed.store(last + 16);
        break;
      }
      case 6:  // a level above fatal
        rec.level = static_cast<std::uint8_t>(shm::kMaxLevel + 1 + rnd(250));
        std::memcpy(data, &rec, sizeof rec);
        break;
      default:  // start not on a record boundary inside a wrapped extent
        h.start.store(valid_end + 1 + rnd(7));
        h.wrap_end.store(g.ring_size);
        break;
    }
    const bool valid = ring_is_valid(s, 0, ring);
    push_submit(s, 0, ring);
    return after(l, valid ? "served" : "corrupt", ",\"variant\":" + std::to_string(variant));
  }
  if (a == "index-out-of-range") {
    const std::uint32_t candidates[] = {g.rings_per_lane, g.rings_per_lane + 1, shm::kMaxRingsPerLane,
                                        shm::kMaxRingsPerLane + 1, 0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu};
    const std::uint32_t index =
        l.seed < std::size(candidates) ? candidates[l.seed] : g.rings_per_lane + static_cast<std::uint32_t>(rng() % 0xFFFFFF00u);
    push_submit(s, static_cast<std::uint32_t>(l.seed % g.lane_count), index);
    return after(l, "faulty", ",\"index\":" + std::to_string(index));
  }
  if (a == "double-submit" || a == "double-submit-marked") {
    // Unmarked, the first copy is held back as pre-roll (the daemon holds
    // the ring when it pops the second); marked, it is written and handed
    // back (the second is a ring waiting in the free queue).
    std::vector<Event> ev = window_events("hostile-double-submit");
    if (a == "double-submit") {
      ev.pop_back();
      // The attach window was marked: this one is its post-roll, written;
      // the next unmarked one is held back as pre-roll.
      const std::uint32_t post = take_ring(s, 0);
      fill_ring(s, 0, post, ev);
      push_submit(s, 0, post);
    }
    const std::uint32_t ring = take_ring(s, 0);
    fill_ring(s, 0, ring, ev);
    push_submit(s, 0, ring);
    push_submit(s, 0, ring);
    return after(l, "faulty", ",\"ring\":" + std::to_string(ring));
  }
  if (a == "resubmit-free-ring") {
    // The first window's ring is back in the free queue, not taken: submit it anyway.
    const shm::LaneControl& lc = s.ref.lane(0);
    const std::uint32_t tail = lc.free_queue.tail.load(std::memory_order_acquire);
    const std::uint32_t newest = lc.free_queue.slots[(tail - 1) % shm::kMaxRingsPerLane].load();
    push_submit(s, 0, newest);
    return after(l, "faulty", ",\"ring\":" + std::to_string(newest));
  }
  if (a == "free-head-backwards") {
    // Take a ring legitimately, fill it, then move the free queue's head
    // back over it, as if it had never been taken, and submit it.
    const std::uint32_t ring = take_ring(s, 0);
    fill_ring(s, 0, ring, window_events("hostile-head-backwards"));
    auto& head = s.ref.lane(0).free_queue.head;
    head.store(head.load() - 1, std::memory_order_release);
    push_submit(s, 0, ring);
    return after(l, "faulty", ",\"ring\":" + std::to_string(ring));
  }
  if (a == "free-head-ahead") {
    // A ring taken legitimately, then the head moved past the tail (more
    // taken than the daemon ever gave), then the ring submitted.
    const std::uint32_t ring = take_ring(s, 0);
    fill_ring(s, 0, ring, window_events("hostile-head-ahead"));
    auto& q = s.ref.lane(0).free_queue;
    q.head.store(q.tail.load() + 1 + static_cast<std::uint32_t>(rng() % 1000), std::memory_order_release);
    push_submit(s, 0, ring);
    return after(l, "faulty");
  }
  if (a == "submit-tail-backwards") {
    // The daemon has consumed the first window (position 0): a tail below
    // its head is impossible.
    auto& tail = s.ref.lane(0).submit_queue.tail;
    tail.store(tail.load() - 1 - static_cast<std::uint32_t>(rng() % 3), std::memory_order_release);
    return after(l, "faulty");
  }

  // --- bad messages on the socket of an attached client ----------------------
  std::array<std::byte, wire::kDoorbellSize> bell;
  wire::encode_doorbell(bell, {0});
  if (a == "bad-magic") {
    bell[0] = std::byte{0x58};
    send_raw(l.sock, bell.data(), bell.size());
    return after(l, "protocol");
  }
  if (a == "bad-size") {
    const std::uint16_t size = 15;
    std::memcpy(bell.data() + 6, &size, sizeof size);
    send_raw(l.sock, bell.data(), bell.size());
    return after(l, "protocol");
  }
  if (a == "short-message") {
    send_raw(l.sock, bell.data(), 3);
    return after(l, "protocol");
  }
  if (a == "oversized-message") {
    std::vector<std::byte> big(wire::kMaxMessageSize + 100, std::byte{0});
    std::memcpy(big.data(), bell.data(), bell.size());
    send_raw(l.sock, big.data(), big.size());
    return after(l, "protocol");
  }
  if (a == "unknown-type") {
    const std::uint16_t type = 77;
    std::memcpy(bell.data() + 4, &type, sizeof type);
    send_raw(l.sock, bell.data(), bell.size());
    return after(l, "protocol");
  }
  if (a == "empty-message") {
    send_raw(l.sock, bell.data(), 0);
    return after(l, "closed");
  }
  if (a == "hello-twice") {
    send_hello(l.sock, s.layout.segment_size, {s.fd});
    return after(l, "rejected");
  }
  if (a == "doorbell-with-fds" || a == "doorbell-many-fds" || a == "goodbye-with-fd") {
    const int n = a == "doorbell-many-fds" ? 12 : a == "goodbye-with-fd" ? 1 : 3;
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) fds.push_back(i % 2 == 0 ? s.fd : STDOUT_FILENO);
    if (a == "goodbye-with-fd") {
      std::array<std::byte, wire::kGoodbyeSize> bye;
      wire::encode_goodbye(bye);
      send_raw(l.sock, bye.data(), bye.size(), fds);
    } else {
      send_raw(l.sock, bell.data(), bell.size(), fds);
    }
    return after(l, "protocol", ",\"fds\":" + std::to_string(n));
  }
  if (a == "doorbell-flood") {
    std::uint64_t sent = 0;
    const auto end = std::chrono::steady_clock::now() + 2s;
    say(R"({"phase":"flooding"})");
    while (std::chrono::steady_clock::now() < end) {
      for (int i = 0; i < 256; ++i) {
        if (send_doorbell(l.sock, static_cast<std::uint32_t>(sent), /*wait=*/false)) {
          ++sent;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          pollfd p{l.sock, POLLOUT, 0};
          ::poll(&p, 1, 5);
        } else {
          die("doorbell flood: send");
        }
      }
    }
    return after(l, "served", ",\"doorbells\":" + std::to_string(sent));
  }
  std::fprintf(stderr, "hostile_client: unknown attack '%s'\n", a.c_str());
  return 2;
}

// --- attacks at HELLO ---------------------------------------------------------------

// Sends HELLO with `fds` (each closed here afterwards) and waits for the daemon
// to hang up.
int hello_attack(const std::string& attack, std::uint64_t seed, const std::string& expect, std::uint64_t size,
                 const std::vector<int>& fds, const std::function<void()>& afterwards = {}) {
  const int sock = connect_daemon();
  if (!send_hello(sock, size, fds)) die("send HELLO");
  say("{\"phase\":\"attacked\",\"attack\":\"" + attack + "\",\"seed\":" + std::to_string(seed) + ",\"expect\":\"" +
      expect + "\",\"pid\":" + std::to_string(::getpid()) + "}");
  const bool closed = wait_closed(sock, linger_time());
  if (afterwards) afterwards();
  say(closed ? R"({"phase":"closed"})" : R"({"phase":"linger-timeout"})");
  return closed ? 0 : 3;
}

// The daemon's REFUSED on `sock` (its reason; 0 when it closed without one),
// read until the end of file; nullopt when the daemon did not close in time.
std::optional<std::uint32_t> refusal_then_close(int sock, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint32_t reason = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{sock, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) die("poll");
    if (r <= 0) continue;
    std::array<std::byte, 64> buf;
    const ssize_t n = ::recv(sock, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNRESET)) continue;
    if (n <= 0) return reason;
    if (const auto refused = wire::parse_refused({buf.data(), static_cast<std::size_t>(n)})) reason = refused->reason;
  }
}

int reconnect_faulty(std::uint64_t count) {
  std::map<std::string, std::uint64_t> reasons;
  std::uint64_t closed = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    Segment s = make_segment(SealMode::sealed);
    s.ref.lane(0).state.store(static_cast<std::uint32_t>(shm::LaneState::active), std::memory_order_release);
    push_submit(s, 0, s.layout.geometry.rings_per_lane);  // out of range: faulty at the first drain
    const int sock = connect_daemon();
    // A quarantined process may be refused before its HELLO is sent.
    if (!send_hello(sock, s.layout.segment_size, {s.fd}) && errno != EPIPE && errno != ECONNRESET) die("send HELLO");
    const auto reason = refusal_then_close(sock, linger_time());
    ::close(sock);
    ::munmap(s.ref.base(), s.layout.segment_size);
    ::close(s.fd);
    if (!reason) break;
    ++closed;
    ++reasons[*reason == 0 ? "none" : std::to_string(*reason)];
  }
  std::string by;
  for (const auto& [k, v] : reasons) by += (by.empty() ? "\"" : ",\"") + k + "\":" + std::to_string(v);
  say("{\"phase\":\"reconnected\",\"attempts\":" + std::to_string(count) + ",\"closed\":" + std::to_string(closed) +
      ",\"reasons\":{" + by + "}}");
  return closed == count ? 0 : 3;
}

int run_hello_attack(const std::string& a, std::uint64_t seed, bool& known) {
  known = true;
  const std::uint64_t size = shm::compute_layout(geometry()).segment_size;
  if (a == "unsealed-memfd" || a == "grow-sealed-only" || a == "shrink-sealed-only") {
    const SealMode mode = a == "unsealed-memfd" ? SealMode::none
                          : a == "grow-sealed-only" ? SealMode::grow_only
                                                    : SealMode::shrink_only;
    Segment s = make_segment(mode);
    return hello_attack(a, seed, "rejected", size, {s.fd}, [&] {
      // Had the daemon mapped this memfd, its next read would fault (SIGBUS).
      if (mode != SealMode::shrink_only && ::ftruncate(s.fd, 0) != 0) die("ftruncate(0)");
    });
  }
  if (a == "write-sealed-memfd") {
    const int fd = ::memfd_create("hostile-write-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(size)) != 0) die("memfd");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    fill_identity(shm::SegmentRef(p, shm::compute_layout(geometry())));
    ::munmap(p, size);
    if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) die("F_SEAL_WRITE");
    return hello_attack(a, seed, "rejected", size, {fd});
  }
  if (a == "readonly-fd") {
    Segment s = make_segment(SealMode::sealed);
    const int ro = ::open(("/proc/self/fd/" + std::to_string(s.fd)).c_str(), O_RDONLY | O_CLOEXEC);
    if (ro < 0) die("reopen read-only");
    return hello_attack(a, seed, "rejected", size, {ro});
  }
  if (a == "pipe-fd") {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) die("pipe");
    return hello_attack(a, seed, "rejected", size, {p[0]});
  }
  if (a == "socket-fd") {
    int p[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) die("socketpair");
    return hello_attack(a, seed, "rejected", size, {p[0]});
  }
  if (a == "file-fd") {
    // A regular file on disk holding a perfectly valid segment.
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/hostile-segment-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) die("mkstemp");
    ::unlink(path.c_str());
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) die("ftruncate");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    fill_identity(shm::SegmentRef(p, shm::compute_layout(geometry())));
    return hello_attack(a, seed, "rejected", size, {fd}, [&] {
      if (::ftruncate(fd, 0) != 0) die("ftruncate(0)");
    });
  }
  if (a == "dev-zero-fd") {
    const int fd = ::open("/dev/zero", O_RDWR | O_CLOEXEC);
    if (fd < 0) die("open /dev/zero");
    return hello_attack(a, seed, "rejected", size, {fd});
  }
  if (a == "empty-memfd") {
    const int fd = shm::create_sealed_memfd("hostile-empty", 0).release();
    return hello_attack(a, seed, "rejected", 0, {fd});
  }
  if (a == "oversized-segment") {
    // 2 GiB, sparse: costs nothing here; above the daemon's default limit (1 GiB).
    const std::uint64_t big = 2ull << 30;
    const int fd = shm::create_sealed_memfd("hostile-oversized", big).release();
    return hello_attack(a, seed, "rejected", big, {fd});
  }
  if (a == "size-mismatch") {
    Segment s = make_segment(SealMode::sealed);
    return hello_attack(a, seed, "rejected", size + 4096 * (1 + seed % 16), {s.fd});
  }
  if (a == "bad-header") {
    Segment s = make_segment(SealMode::sealed);
    shm::SegmentHeader& h = s.ref.header();
    std::mt19937_64 rng(seed);
    switch (seed % 12) {
      case 0: h.magic ^= 1ull << (rng() % 64); break;
      case 1: h.abi_version = 2 + static_cast<std::uint32_t>(rng() % 100); break;
      case 2: h.header_size = 4096 + 8 * (1 + static_cast<std::uint32_t>(rng() % 100)); break;
      case 3: h.lane_count = rng() % 2 == 0 ? 0 : shm::kMaxLanes + 1 + static_cast<std::uint32_t>(rng() % 1000); break;
      case 4: h.rings_per_lane = rng() % 2 == 0 ? 1 : shm::kMaxRingsPerLane + 1; break;
      case 5: h.ring_size = 8192 + 8 * (1 + static_cast<std::uint32_t>(rng() % 500)); break;
      case 6: h.max_message_size = 65536 + static_cast<std::uint32_t>(rng() % 100000); break;
      case 7: h.lane_table_offset += 64; break;
      case 8: h.ring_data_offset -= 4096; break;
      case 9: h.segment_size += 4096; break;
      case 10: h.clock_source = 2 + static_cast<std::uint32_t>(rng() % 100); break;
      default:
        h.clock_source = static_cast<std::uint32_t>(shm::ClockSource::tsc);
        h.tsc_ns_mult = rng() % 2 == 0 ? 0 : 1;
        h.tsc_ns_shift = h.tsc_ns_mult == 0 ? 0 : 64 + static_cast<std::uint32_t>(rng() % 100);
        break;
    }
    // Geometry that still describes this memfd but is out of bounds is case
    // 3..6 (the layout no longer matches either); every case is refused.
    return hello_attack(a, seed, "rejected", size, {s.fd});
  }
  if (a == "reconnect-faulty") return reconnect_faulty(seed);
  if (a == "hello-no-fd") return hello_attack(a, seed, "protocol", size, {});
  if (a == "hello-two-fds") {
    Segment s = make_segment(SealMode::sealed);
    return hello_attack(a, seed, "protocol", size, {s.fd, s.fd});
  }
  known = false;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: hostile_client ATTACK [SEED]\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  const std::string attack = argv[1];
  const std::uint64_t seed = argc == 3 ? std::strtoull(argv[2], nullptr, 10) : 0;

  bool known = false;
  const int rc = run_hello_attack(attack, seed, known);
  if (known) return rc;

  // Everything else attacks a segment the daemon has attached and is reading.
  Live l;
  l.attack = attack;
  l.seed = seed;
  l.seg = make_segment(SealMode::sealed);
  shm::LaneControl& lane0 = l.seg.ref.lane(0);
  lane0.state.store(static_cast<std::uint32_t>(shm::LaneState::active), std::memory_order_release);
  lane0.tid.store(static_cast<std::uint32_t>(::syscall(SYS_gettid)), std::memory_order_relaxed);
  const std::uint32_t first = take_ring(l.seg, 0);
  fill_ring(l.seg, 0, first, window_events("hostile-attached pid=" + std::to_string(::getpid())));
  push_submit(l.seg, 0, first);
  l.sock = connect_daemon();
  if (!send_hello(l.sock, l.seg.layout.segment_size, {l.seg.fd})) die("send HELLO");
  if (!wait_ring_free(l.seg, 0, first, 30s)) {
    say(R"({"phase":"not-attached"})");
    return 4;
  }
  say("{\"phase\":\"attached\",\"pid\":" + std::to_string(::getpid()) + "}");
  return run_live(l);
}
