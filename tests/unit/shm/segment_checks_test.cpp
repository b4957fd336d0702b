// What the daemon checks before it trusts a client's segment, one check at
// a time: the header snapshot (every field, each refused with its reason),
// the TSC conversion, the descriptor (a sealed memfd of a sane size) and its
// mapping; and the socket paths and clock choice both sides derive.
#include "../../support/failing_new.hpp"
#include "../../support/failing_new_impl.hpp"  // this executable's operator new
#include "../../support/syscall_faults.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "preroll/shm/abi.hpp"
#include "preroll/shm/paths.hpp"
#include "preroll/shm/segment_layout.hpp"
#include "preroll/shm/segment_memory.hpp"
#include "preroll/shm/tsc.hpp"
#include "preroll/shm/validate.hpp"

using namespace preroll::shm;
using preroll::test::run_with_failing_allocation;
using preroll::test::fail_syscalls;
using preroll::test::in_child;

namespace {

// A valid segment of a small geometry in page-aligned memory, header filled
// as a client fills it.
struct Segment {
  Geometry geometry{1, 2, 4096, 512};
  Layout layout = compute_layout(geometry);
  std::unique_ptr<void, decltype(&std::free)> memory{std::aligned_alloc(4096, layout.segment_size), &std::free};

  Segment() {
    std::memset(memory.get(), 0, layout.segment_size);
    init_segment(SegmentRef(memory.get(), layout));
    std::memcpy(header().process_name, "app", 3);
  }
  SegmentHeader& header() const { return *static_cast<SegmentHeader*>(memory.get()); }
  // The snapshot's error, or "" when it is accepted.
  std::string error(std::uint64_t mapped) const {
    const auto r = snapshot_header(memory.get(), mapped);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string();
  }
  std::string error() const { return error(layout.segment_size); }
};

// An environment variable set for the life of the guard, then restored.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string seal_error(int fd, std::uint64_t max = 1 << 20) {
  const SealCheck c = check_sealed_memfd(fd, max);
  return c.ok ? "ok " + std::to_string(c.size) : c.error;
}

}  // namespace

TEST_CASE("segment header: a valid one is copied, its name made printable") {
  Segment s;
  char* name = s.header().process_name;
  std::memset(name, 'n', kProcessNameSize);  // no NUL: all 64 bytes are the name
  name[1] = '\x01';
  name[2] = static_cast<char>(0xff);
  name[3] = '\x7f';
  s.header().pid = 42;
  const auto r = snapshot_header(s.memory.get(), s.layout.segment_size);
  REQUIRE(std::holds_alternative<HeaderSnapshot>(r));
  const HeaderSnapshot& h = std::get<HeaderSnapshot>(r);
  CHECK(h.process_name == "n???" + std::string(kProcessNameSize - 4, 'n'));
  CHECK(h.pid_untrusted == 42);
  CHECK(h.layout.segment_size == s.layout.segment_size);
  CHECK(h.clock_source == ClockSource::monotonic);
}

TEST_CASE("segment header: each identity, size and offset check refuses with its reason") {
  Segment s;
  CHECK(s.error() == "");
  CHECK(s.error(kHeaderRegionSize - 1) == "segment smaller than its header");
  const auto edited = [&](auto edit) {
    Segment t;
    edit(t.header());
    return t.error();
  };
  CHECK(edited([](SegmentHeader& h) { h.magic += 1; }) == "bad segment magic");
  CHECK(edited([](SegmentHeader& h) { h.abi_version = 99; }) ==
        "unsupported ABI version 99 (this daemon speaks " + std::to_string(kAbiVersion) + ")");
  CHECK(edited([](SegmentHeader& h) { h.header_size = 8192; }) == "bad header size 8192");
  CHECK(edited([](SegmentHeader& h) { h.lane_count = 0; }) == "bad geometry: lane count 0 outside [1, 4096]");
  CHECK(edited([](SegmentHeader& h) { h.lane_table_offset += 8; }) == "region offsets do not match the geometry");
  CHECK(edited([](SegmentHeader& h) { h.ring_header_offset += 8; }) == "region offsets do not match the geometry");
  CHECK(edited([](SegmentHeader& h) { h.ring_data_offset += 4096; }) == "region offsets do not match the geometry");
  const std::string size = std::to_string(s.layout.segment_size);
  CHECK(edited([](SegmentHeader& h) { h.segment_size += 4096; }) ==
        "segment size " + std::to_string(s.layout.segment_size + 4096) + " does not match the geometry (" + size +
            ") and the memfd (" + size + ")");
  CHECK(s.error(s.layout.segment_size + 4096) == "segment size " + size + " does not match the geometry (" + size +
                                                     ") and the memfd (" + std::to_string(s.layout.segment_size + 4096) +
                                                     ")");
}

TEST_CASE("segment header: the clock source must be known, a TSC one calibrated") {
  const auto with_clock = [](std::uint32_t source, std::uint64_t mult, std::uint32_t shift) {
    Segment s;
    s.header().clock_source = source;
    s.header().tsc_ns_mult = mult;
    s.header().tsc_ns_shift = shift;
    return s.error();
  };
  CHECK(with_clock(2, 0, 0) == "unknown clock source 2");
  CHECK(with_clock(1, 0, 32) == "invalid TSC calibration");
  CHECK(with_clock(1, 1ull << 31, 64) == "invalid TSC calibration");
  CHECK(with_clock(1, 1ull << 31, 63) == "");
  CHECK(with_clock(0, 0, 99) == "");  // a monotonic clock ignores the calibration
}

TEST_CASE("TSC timestamps convert with the client's calibration, never before its reference") {
  HeaderSnapshot h;
  CHECK(h.to_monotonic_ns(123) == 123);  // monotonic: as is
  h.clock_source = ClockSource::tsc;
  h.tsc_reference = 1000;
  h.tsc_reference_ns = 5000;
  h.tsc_ns_mult = 1ull << 31;  // half a nanosecond per tick
  h.tsc_ns_shift = 32;
  CHECK(h.to_monotonic_ns(3000) == 6000);
  CHECK(h.to_monotonic_ns(1000) == 5000);
  CHECK(h.to_monotonic_ns(10) == 5000);  // another socket's skew: clamped
  // 2^40 ticks at 2 ns each: the product needs more than 64 bits.
  h.tsc_ns_mult = 1ull << 33;
  CHECK(h.to_monotonic_ns(1000 + (1ull << 40)) == 5000 + (1ull << 41));
}

TEST_CASE("geometry: every bound names the value and the range") {
  Geometry g{1, 2, 4096, 512};
  CHECK_FALSE(check_geometry(g).has_value());
  g.lane_count = kMaxLanes + 1;
  CHECK(*check_geometry(g) == "lane count 4097 outside [1, 4096]");
  g = {1, kMaxRingsPerLane + 1, 4096, 512};
  CHECK(*check_geometry(g) == "rings per lane 65 outside [2, 64]");
  g = {1, 2, kMaxRingSize + 4096, 512};
  CHECK(*check_geometry(g) == "ring size 67112960 must be a multiple of 4096 within [4096, 67108864]");
  g = {1, 2, 2048, 512};
  CHECK(check_geometry(g)->starts_with("ring size 2048 must be"));
  g = {1, 2, 1u << 20, kMaxMessageLen + 1};
  CHECK(*check_geometry(g) == "max message size 65536 above 65535");
}

TEST_CASE("descriptors: only a sealed, non-empty memfd within the size limit is accepted") {
  CHECK(seal_error(-1) == "fstat failed: Bad file descriptor");
  int p[2];
  REQUIRE(::pipe(p) == 0);
  CHECK(seal_error(p[0]) == "descriptor is not a memfd (not a regular file)");
  ::close(p[0]);
  ::close(p[1]);
  // A regular file no memfd call knows (on tmpfs a plain file would report F_SEAL_SEAL).
  const int file = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  REQUIRE(file >= 0);
  CHECK(seal_error(file) == "descriptor is not a sealable memfd");
  ::close(file);

  const UniqueFd open_memfd(::memfd_create("open", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  REQUIRE(::ftruncate(open_memfd.get(), 4096) == 0);
  CHECK(seal_error(open_memfd.get()) == "memfd is not sealed against shrink and grow");
  REQUIRE(::fcntl(open_memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK) == 0);
  CHECK(seal_error(open_memfd.get()) == "memfd is not sealed against shrink and grow");  // grow still open

  const UniqueFd empty = create_sealed_memfd("empty", 0);
  CHECK(seal_error(empty.get()) == "memfd is empty");
  const UniqueFd big = create_sealed_memfd("big", 8192);
  CHECK(seal_error(big.get(), 4096) == "segment of 8192 bytes exceeds the limit of 4096");
  CHECK(seal_error(big.get(), 8192) == "ok 8192");
}

TEST_CASE("creating a sealed memfd reports which step failed") {
  try {
    (void)create_sealed_memfd("huge", ~std::uint64_t{0});  // a negative off_t
    FAIL("a memfd of 2^64-1 bytes was made");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EINVAL);
    CHECK(std::string(e.what()).starts_with("ftruncate(memfd)"));
  }
  const std::string out = in_child([] {
    if (!fail_syscalls({{SYS_memfd_create, EMFILE}})) return std::string("no seccomp");
    try {
      (void)create_sealed_memfd("none", 4096);
      return std::string("made");
    } catch (const std::system_error& e) {
      return std::to_string(e.code().value()) + " " + e.what();
    }
  });
  CHECK(out == std::to_string(EMFILE) + " memfd_create: Too many open files");
  const std::string seals = in_child([] {
    if (!fail_syscalls({{SYS_fcntl, EPERM, std::nullopt, F_ADD_SEALS}})) return std::string("no seccomp");
    try {
      (void)create_sealed_memfd("seal", 4096);
      return std::string("made");
    } catch (const std::system_error& e) {
      return std::to_string(e.code().value()) + " " + e.what();
    }
  });
  CHECK(seals == std::to_string(EPERM) + " fcntl(F_ADD_SEALS): Operation not permitted");
}

TEST_CASE("mapping: a descriptor that cannot be mapped throws, an unmapped segment is empty") {
  CHECK_THROWS_WITH(MappedSegment(-1, 4096), Catch::StartsWith("mapping segment: "));
  MappedSegment none;
  CHECK_FALSE(none.mapped());
  CHECK(none.data() == nullptr);
  CHECK(none.size() == 0);
  const UniqueFd fd = create_sealed_memfd("map", 8192);
  MappedSegment m(fd.get(), 8192);
  REQUIRE(m.mapped());
  CHECK(m.size() == 8192);
  static_cast<unsigned char*>(m.data())[8191] = 7;
  MappedSegment moved = std::move(m);
  CHECK(static_cast<unsigned char*>(moved.data())[8191] == 7);
  moved.unmap();
  CHECK_FALSE(moved.mapped());
  CHECK(moved.data() == nullptr);
}

TEST_CASE("mapping: out of memory for the mapping's bookkeeping is bad_alloc, not a mapping error") {
  const UniqueFd fd = create_sealed_memfd("oom", 4096);
  const auto run = run_with_failing_allocation(0, false, [&] { MappedSegment m(fd.get(), 4096); });
  CHECK(run.fired);
  CHECK(run.threw_bad_alloc);  // not mapped without its allocation
  MappedSegment m(fd.get(), 4096);  // and with memory, it maps
  CHECK(m.mapped());
}

TEST_CASE("records: a committed size ending inside a record header stops the parse there") {
  // Committed sizes are multiples of 8, a record header is 16 bytes: 8 left
  // over after a whole record is a header cut in two.
  std::vector<unsigned char> ring(64, 0);
  write_record(ring.data(), 1, 2, 0, "n", 1, "message", 7);
  const std::uint32_t first = record_size(1, 7);
  int seen = 0;
  const ParseResult r = parse_records({ring.data(), first + 8}, 512, [&](const RecordView&) { ++seen; });
  CHECK_FALSE(r.ok);
  CHECK(r.records == 1);
  CHECK(seen == 1);
  CHECK(r.bytes_accepted == first);
  CHECK(r.error == "record header cut at offset " + std::to_string(first));
}

TEST_CASE("records: a wrapped ring whose older part is damaged stops before the newer part") {
  std::vector<unsigned char> ring(4096, 0);
  write_record(ring.data(), 1, 2, 0, "new", 3, "newer", 5);  // [0, newer_end)
  const std::uint32_t newer_end = record_size(3, 5);
  const std::uint32_t older_begin = 2048;
  write_record(ring.data() + older_begin, 1, 2, 0, "old", 3, "older", 5);
  ring[older_begin + record_size(3, 5) + offsetof(EventRecordHeader, level)] = 9;  // the next one: an invalid level
  const RingExtent extent{older_begin, older_begin + 2 * record_size(3, 5), newer_end};
  std::vector<std::string> names;
  const ParseResult r = parse_ring(ring.data(), extent, 512, [&](const RecordView& v) { names.emplace_back(v.name); });
  CHECK_FALSE(r.ok);
  CHECK(names == std::vector<std::string>{"old"});
  CHECK(r.error.starts_with("level 9 invalid at offset"));
}

TEST_CASE("ring queues of the real size report a hostile peer's positions as corrupt") {
  RingIndexQueue q{};
  SpscProducer<std::uint32_t, kMaxRingsPerLane> p(&q);
  for (std::uint32_t i = 0; i < kMaxRingsPerLane; ++i) REQUIRE(p.try_push(i) == QueueStatus::ok);
  CHECK(p.try_push(99) == QueueStatus::full);
  q.head.store(static_cast<std::uint32_t>(-1));  // moved backwards: fill would be 65
  CHECK(p.try_push(99) == QueueStatus::corrupt);
  RingIndexQueue r{};
  SpscConsumer<std::uint32_t, kMaxRingsPerLane> c(&r);
  r.tail.store(kMaxRingsPerLane + 1);  // more filled than there are slots
  std::uint32_t v = 0;
  CHECK(c.try_pop(v) == QueueStatus::corrupt);
}

TEST_CASE("a descriptor owner closes what it holds, once, and survives assignment to itself") {
  UniqueFd a(::memfd_create("a", MFD_CLOEXEC));
  const int raw = a.get();
  REQUIRE(raw >= 0);
  UniqueFd& same = a;
  a = std::move(same);
  CHECK(a.get() == raw);
  CHECK(::fcntl(raw, F_GETFD) >= 0);  // still open
  UniqueFd b;
  b = std::move(a);
  CHECK_FALSE(a.valid());
  CHECK(b.get() == raw);
  b.reset();
  CHECK(::fcntl(raw, F_GETFD) < 0);  // closed
}

TEST_CASE("socket paths: root, XDG_RUNTIME_DIR, /tmp per uid, PREROLL_SOCKET first") {
  {
    const EnvGuard socket("PREROLL_SOCKET", "/x/custom.sock");
    CHECK(client_socket_path() == "/x/custom.sock");
  }
  {
    const EnvGuard socket("PREROLL_SOCKET", "");
    CHECK(client_socket_path() == default_socket_path());
  }
  {
    const EnvGuard socket("PREROLL_SOCKET", nullptr);
    CHECK(client_socket_path() == default_socket_path());
  }
  CHECK(control_socket_path("/run/preroll/prerolld.sock") == "/run/preroll/prerolld.ctl");
  // Both sides of the root check: as is, and in a child as another user.
  const auto paths = [] {
    std::string r;
    {
      const EnvGuard xdg("XDG_RUNTIME_DIR", nullptr);
      r += default_socket_path() + "\n";
    }
    {
      const EnvGuard xdg("XDG_RUNTIME_DIR", "/run/user/4242");
      r += default_socket_path() + "\n";
    }
    const EnvGuard xdg("XDG_RUNTIME_DIR", "relative");
    return r + default_socket_path();
  };
  // The effective uid only, and back before the child exits: a coverage
  // build's data files belong to the user running the tests.
  const std::string as_user = in_child([&] {
    const bool root = ::geteuid() == 0;
    if (root && ::setresuid(static_cast<uid_t>(-1), 4242, static_cast<uid_t>(-1)) != 0) return std::string("setresuid failed");
    const std::string r = paths();
    if (root && ::seteuid(0) != 0) return std::string("seteuid failed");
    return r;
  });
  const std::string uid = std::to_string(::geteuid() == 0 ? 4242 : ::geteuid());
  CHECK(as_user == "/tmp/preroll-" + uid + "/prerolld.sock\n/run/user/4242/preroll/prerolld.sock\n/tmp/preroll-" +
                       uid + "/prerolld.sock");
  if (::geteuid() == 0) CHECK(default_socket_path() == "/run/preroll/prerolld.sock");
}

TEST_CASE("clock choice: PREROLL_CLOCK forces monotonic, or the TSC where there is one") {
  {
    const EnvGuard clock("PREROLL_CLOCK", "monotonic");
    CHECK_FALSE(tsc_is_reliable());
  }
  {
    const EnvGuard clock("PREROLL_CLOCK", "tsc");
    CHECK(tsc_is_reliable() == (PREROLL_HAVE_TSC != 0));
  }
  const EnvGuard clock("PREROLL_CLOCK", "anything else");
  const bool detected = tsc_is_reliable();
  const EnvGuard unset("PREROLL_CLOCK", nullptr);
  CHECK(tsc_is_reliable() == detected);  // an unknown value means: detect
}
