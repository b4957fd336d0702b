// libFuzzer target: the daemon's reading of a client's shared-memory
// segment, which is hostile input (DESIGN.md: "every index, offset, size and
// length read from it is bounds-checked before use").
//
// Each input is used twice.
//
// 1. The validation helpers alone (preroll/shm/validate.hpp), on the raw
//    bytes: snapshot_header of the input as a whole segment image;
//    checked_committed / checked_extent of three words of it; parse_records
//    and parse_ring over it as ring bytes. Promises checked: an accepted
//    header's layout is compute_layout() of its geometry and its size is the
//    image's; an accepted extent lies inside the ring, in order; parsed
//    records lie inside the bytes, back to back, lengths within the limits.
//
// 2. ClientSegment (daemon/client_segment.cpp), the daemon's view of a
//    segment, draining an image built from the input: a memfd segment of a
//    fixed small geometry (2 lanes x 4 rings x 4 KiB) with a valid
//    write-once header, the input overlaid on everything the client may
//    write after it: the counters line, the lane table (states, active ring,
//    submit and free queues), the ring headers, the ring bytes (layout below).
//    The first input bytes pick the marking policy and the order of
//    operations. Then drain, --flush-after (forced), snapshot and finalize,
//    as the persistence worker would. Promises checked: every event handed to
//    the sink points inside the mapping or outside it entirely (the daemon's
//    own copy), never across its end; lengths within the segment's limits;
//    a window's event_count is its number of events. Every byte of every
//    event is read, so ASan sees any read of freed or foreign heap memory.
//
// Input layout for part 2 (each region is copied as far as the input goes;
// the rest keeps the freshly initialised segment: free lanes, full free
// queues, empty rings):
//   0     8        control: [0] policy bits, [1] operation order, [2] finalize reason
//   8     64       segment header line 192..255 (process counters)
//   72    2048     lane table (2 x LaneControl)
//   2120  512      ring headers (8 x RingHeader)
//   2632  ...      ring bytes, ring 0 of lane 0 first (8 x 4096)
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <spdlog/spdlog.h>
#include <variant>
#include <vector>

#include "client_segment.hpp"
#include "marking_policy.hpp"
#include "preroll/shm/abi.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "preroll/shm/validate.hpp"
#include "tsc_clock.hpp"
#include "window_sink.hpp"

namespace {

namespace shm = preroll::shm;
namespace daemon = preroll::daemon;
namespace atf = preroll::atf;

#define FUZZ_CHECK(cond)                                                                                \
  do {                                                                                                  \
    if (!(cond)) {                                                                                      \
      std::fprintf(stderr, "shm_segment_fuzzer: invariant violated: %s (%s:%d)\n", #cond, __FILE__,   \
                   __LINE__);                                                                           \
      __builtin_trap();                                                                                 \
    }                                                                                                   \
  } while (0)

// --- part 1 ---------------------------------------------------------------------

std::uint32_t word(const std::uint8_t* data, std::size_t size, std::size_t index) {
  std::uint32_t v = 0;
  const std::size_t off = index * 4;
  if (off < size) std::memcpy(&v, data + off, std::min<std::size_t>(4, size - off));
  return v;
}

void check_records(std::span<const unsigned char> bytes, std::uint32_t max_message) {
  std::size_t expect_off = 0;
  std::uint32_t calls = 0;
  const shm::ParseResult r = shm::parse_records(bytes, max_message, [&](const shm::RecordView& v) {
    const char* lo = reinterpret_cast<const char*>(bytes.data());
    const char* hi = lo + bytes.size();
    FUZZ_CHECK(v.name.data() >= lo + expect_off + sizeof(shm::EventRecordHeader));
    FUZZ_CHECK(v.name.data() + v.name.size() == v.message.data());
    FUZZ_CHECK(v.message.data() + v.message.size() <= hi);
    FUZZ_CHECK(v.name.size() <= shm::kMaxNameLen && v.message.size() <= max_message);
    FUZZ_CHECK(v.level <= shm::kMaxLevel);
    FUZZ_CHECK((v.flags & ~shm::event_flag::known_mask) == 0);
    expect_off += shm::record_size(static_cast<std::uint32_t>(v.name.size()), static_cast<std::uint32_t>(v.message.size()));
    ++calls;
  });
  FUZZ_CHECK(r.records == calls);
  FUZZ_CHECK(r.bytes_accepted == expect_off && r.bytes_accepted <= bytes.size());
  FUZZ_CHECK(r.ok == (r.bytes_accepted == bytes.size()));
  FUZZ_CHECK(r.ok == r.error.empty());
}

void validators(const std::uint8_t* data, std::size_t size) {
  // The input as a segment image (aligned copy, as a mapping would be).
  std::vector<std::uint64_t> aligned((size + 7) / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  const auto snap = shm::snapshot_header(aligned.data(), size);
  if (const auto* h = std::get_if<shm::HeaderSnapshot>(&snap)) {
    const shm::Layout l = shm::compute_layout(h->layout.geometry);
    FUZZ_CHECK(!shm::check_geometry(h->layout.geometry).has_value());
    FUZZ_CHECK(l.segment_size == size && h->layout.segment_size == size);
    FUZZ_CHECK(h->layout.ring_data_offset == l.ring_data_offset && h->layout.lane_table_offset == l.lane_table_offset);
    for (const char c : h->process_name) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
    (void)h->to_monotonic_ns(word(data, size, 3) | std::uint64_t{word(data, size, 4)} << 32);
  } else {
    FUZZ_CHECK(!std::get<std::string>(snap).empty());
  }

  // Three words as a ring header's start / wrap_end / committed.
  const std::uint32_t ring_size = 4096u << (word(data, size, 0) % 4);  // 4..32 KiB
  const std::uint32_t start = word(data, size, 1), wrap_end = word(data, size, 2), committed = word(data, size, 3);
  if (const auto c = shm::checked_committed(committed, ring_size)) FUZZ_CHECK(*c <= ring_size && *c % 8 == 0);
  const auto extent = shm::checked_extent(start, wrap_end, committed, ring_size);
  if (extent) {
    FUZZ_CHECK(extent->older_begin <= extent->older_end && extent->older_end <= ring_size);
    FUZZ_CHECK(extent->newer_end <= ring_size);
    FUZZ_CHECK(extent->older_begin == extent->older_end || extent->newer_end <= extent->older_begin);
    FUZZ_CHECK(extent->bytes() <= ring_size);
    // Parse a ring of that size holding the input (zero padded).
    std::vector<unsigned char> ring(ring_size, 0);
    std::memcpy(ring.data(), data, std::min<std::size_t>(size, ring_size));
    const std::uint32_t max_message = word(data, size, 4) % (shm::kMaxMessageLen + 1);
    std::uint32_t n = 0;
    const shm::ParseResult r = shm::parse_ring(ring.data(), *extent, max_message, [&](const shm::RecordView&) { ++n; });
    FUZZ_CHECK(r.records == n);
  }

  // The whole input as a ring's committed bytes, with two message limits.
  const std::span<const unsigned char> bytes(data, size);
  check_records(bytes, shm::kMaxMessageLen);
  check_records(bytes, 1024);
}

// --- part 2 ---------------------------------------------------------------------

constexpr std::size_t kControl = 8;
constexpr std::size_t kCounters = 64;
constexpr std::size_t kCountersOffset = 192;  // offsetof(SegmentHeader, events_dropped_no_lane)

shm::Geometry geometry() {
  shm::Geometry g;
  g.lane_count = 2;
  g.rings_per_lane = 4;
  g.ring_size = 4096;
  g.max_message_size = 512;
  return g;
}

class CheckingSink final : public daemon::WindowSink {
 public:
  CheckingSink(const unsigned char* base, std::size_t size, bool fail_some)
      : lo_(reinterpret_cast<const char*>(base)), hi_(lo_ + size), fail_some_(fail_some) {}

  bool persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) override {
    FUZZ_CHECK(meta.event_count == events.size());
    FUZZ_CHECK(meta.lane < geometry().lane_count);
    for (const atf::EventView& e : events) {
      check_view(e.name);
      check_view(e.message);
      FUZZ_CHECK(e.name.size() <= shm::kMaxNameLen && e.message.size() <= geometry().max_message_size);
      FUZZ_CHECK(e.level <= shm::kMaxLevel);
      unsigned sum = 0;
      for (const char c : e.name) sum += static_cast<unsigned char>(c);
      for (const char c : e.message) sum += static_cast<unsigned char>(c);
      sum_ = sum_ + sum;
    }
    return !(fail_some_ && (++calls_ % 3 == 0));
  }

 private:
  void check_view(std::string_view v) const {
    const char* p = v.data();
    if (p >= lo_ && p < hi_) FUZZ_CHECK(v.size() <= static_cast<std::size_t>(hi_ - p));
    else if (!v.empty()) FUZZ_CHECK(p + v.size() <= lo_ || p >= hi_);
  }
  const char* lo_;
  const char* hi_;
  bool fail_some_;
  unsigned calls_ = 0;
  volatile unsigned sum_ = 0;
};

struct Fixture {
  Fixture() : layout(shm::compute_layout(geometry())) {
    fd = shm::create_sealed_memfd("shm-segment-fuzz", layout.segment_size);
    void* p = ::mmap(nullptr, layout.segment_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) std::abort();
    client = shm::SegmentRef(p, layout);
    clock = std::make_unique<daemon::TscClock>(1'000'000);
    for (int v = 0; v < 8; ++v) {
      daemon::PolicyConfig c;
      c.triggers = {{"MARK", daemon::PatternKind::literal, 1, 0},
                    {"re:err(or)?\\d+", daemon::PatternKind::regex, 1, 0},
                    {"twice", daemon::PatternKind::literal, 2, 1'000'000'000}};
      c.marking = (v & 1) == 0;
      c.pre_roll = (v & 2) != 0 ? 2 : 0;
      c.post_roll = (v & 2) != 0 ? 1 : 0;
      c.process_scope = (v & 4) != 0;
      c.on_crash = (v & 4) != 0 ? "all" : "marked";
      c.flush_after_ns = 1;
      policies.push_back(daemon::MarkingPolicy::build(c));
    }
  }
  shm::Layout layout;
  shm::UniqueFd fd;
  shm::SegmentRef client;
  std::unique_ptr<daemon::TscClock> clock;
  std::vector<std::shared_ptr<const daemon::MarkingPolicy>> policies;
};

void overlay(unsigned char* dst, std::size_t dst_size, const std::uint8_t*& src, std::size_t& left) {
  const std::size_t n = std::min(dst_size, left);
  std::memcpy(dst, src, n);
  src += n;
  left -= n;
}

void drain_image(Fixture& f, const std::uint8_t* data, std::size_t size) {
  std::uint8_t control[kControl] = {};
  std::memcpy(control, data, std::min(size, kControl));
  const std::uint8_t* src = data + std::min(size, kControl);
  std::size_t left = size - std::min(size, kControl);

  // A fresh segment, then what the hostile client wrote after the HELLO.
  unsigned char* base = f.client.base();
  std::memset(base, 0, f.layout.segment_size);
  shm::init_segment(f.client);
  std::strcpy(f.client.header().process_name, "fuzz");
  overlay(base + kCountersOffset, kCounters, src, left);
  overlay(base + f.layout.lane_table_offset, sizeof(shm::LaneControl) * geometry().lane_count, src, left);
  overlay(base + f.layout.ring_header_offset, sizeof(shm::RingHeader) * geometry().lane_count * geometry().rings_per_lane,
          src, left);
  overlay(base + f.layout.ring_data_offset, f.layout.segment_size - f.layout.ring_data_offset, src, left);

  // The daemon's side: its own mapping, header snapshot, segment view.
  shm::MappedSegment mapping(f.fd.get(), f.layout.segment_size);
  const unsigned char* daemon_base = static_cast<const unsigned char*>(mapping.data());
  auto snap = shm::snapshot_header(mapping.data(), mapping.size());
  FUZZ_CHECK(std::holds_alternative<shm::HeaderSnapshot>(snap));  // the header line is never fuzzed
  daemon::ClientSegment seg(std::move(mapping), std::get<shm::HeaderSnapshot>(std::move(snap)), 4242);

  const auto& policy = *f.policies[control[0] % f.policies.size()];
  auto scratch = policy.matcher() ? policy.matcher()->make_scratch() : nullptr;
  daemon::DaemonStats stats;
  const daemon::DrainContext ctx{policy, scratch.get(), stats, *f.clock};
  CheckingSink sink(daemon_base, f.layout.segment_size, (control[0] & 8) != 0);

  static constexpr atf::KeepReason reasons[] = {atf::KeepReason::client_exit, atf::KeepReason::client_crash,
                                                atf::KeepReason::daemon_shutdown};
  const std::uint8_t order = control[1];
  seg.drain(sink, ctx);
  if (order & 1) (void)seg.arm_doorbell();
  if (order & 2) seg.flush_waiting_marks(sink, ctx, 1'000'000'000'000ull, /*force=*/(order & 4) != 0);
  if (order & 8) seg.snapshot(sink, ctx);
  if (order & 16) seg.drain(sink, ctx);
  seg.publish_capture(stats);
  (void)seg.capture_counters();
  seg.finalize(sink, ctx, reasons[control[2] % 3]);
  if (seg.faulty()) FUZZ_CHECK(!seg.fault().empty());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // corrupt rings are reported at warn: quiet here
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  validators(data, size);
  drain_image(fixture, data, size);
  return 0;
}
