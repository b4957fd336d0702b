// libFuzzer target: preroll::atf::Reader on arbitrary bytes.
//
// Every input is read as it is (the checksums of mutated records are then
// mostly wrong, which exercises the framing checks), and again with the
// checksum of every whole record re-sealed (so mutations reach the WINDOW,
// EVENTS, END and header decoders and the zstd path). Each read takes every
// window next() returns, touches every byte of every event, and checks what
// docs/atf.md promises for ANY file; a broken promise is a __builtin_trap,
// which libFuzzer reports as a crash like a sanitizer finding.
//
//   - open() either throws std::runtime_error or yields a reader; next()
//     never throws on damaged content;
//   - after next() returns false the reason is set and stays set;
//   - status().ok() exactly when the reason is clean_end or eof_no_end, and
//     then offset is the file size;
//   - header end <= offset <= record_offset <= file size, offsets 8-aligned;
//   - windows returned == status().windows, their events == status().events,
//     each window holds exactly meta.event_count events;
//   - truncating the file at status().offset leaves a file that reads whole
//     (ok()) with the same header, windows and events ("whole prefix" rule).
//
// The Reader opens a path, so the bytes go to one anonymous in-memory file
// (memfd) made once per process, opened through /proc/self/fd: nothing is
// left behind when the fuzzer dies on a finding.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "atf_record_bytes.hpp"
#include "preroll/atf/reader.hpp"

namespace {

using preroll::atf::ReadStatus;
using preroll::atf::ReadWindow;
using preroll::atf::Reader;
using preroll::atf::StopReason;

#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "atf_reader_fuzzer: invariant violated: %s (%s:%d)\n", #cond,      \
                   __FILE__, __LINE__);                                                      \
      __builtin_trap();                                                                      \
    }                                                                                        \
  } while (0)

class ScratchFile {
 public:
  ScratchFile() {
    fd_ = ::memfd_create("atf-reader-fuzz", MFD_CLOEXEC);
    if (fd_ < 0) {
      // No memfd: an unlinked temporary file, still reached through /proc.
      const char* dir = std::getenv("TMPDIR");
      std::string templ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/atf-fuzz-XXXXXX";
      fd_ = ::mkstemp(templ.data());
      if (fd_ < 0) die("cannot create a scratch file");
      ::unlink(templ.c_str());
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }

  void write(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) die("ftruncate");
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("pwrite");
      done += static_cast<std::size_t>(n);
    }
  }

  void truncate(std::uint64_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) die("ftruncate");
  }

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  [[noreturn]] static void die(const char* what) {
    std::fprintf(stderr, "atf_reader_fuzzer: %s: %s\n", what, std::strerror(errno));
    std::abort();
  }

  int fd_ = -1;
  std::string path_;
};

// What one read of the file gave.
struct Outcome {
  ReadStatus status;
  std::uint64_t windows = 0;
  std::uint64_t events = 0;
  std::uint64_t digest = 0;  // over the header and every returned window, event bytes included
};

// FNV-1a, only so that every byte is read and two reads can be compared.
class Digest {
 public:
  void add(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void add(const std::string& s) {
    add(s.size());
    for (const char c : s) byte(static_cast<std::uint8_t>(c));
  }
  [[nodiscard]] std::uint64_t value() const { return h_; }

 private:
  void byte(std::uint8_t b) { h_ = (h_ ^ b) * 0x100000001b3ULL; }
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

void add_window(Digest& d, const ReadWindow& w) {
  const auto& m = w.meta;
  d.add(m.window_id);
  d.add(m.lane);
  d.add(m.tid);
  d.add(m.ring_sequence);
  d.add(static_cast<std::uint64_t>(m.reason));
  d.add(m.start_ns);
  d.add(m.end_ns);
  d.add(m.first_marked_ns);
  d.add(m.event_count);
  d.add(m.marked_count);
  d.add(m.lost_events_before);
  d.add(m.lost_bytes_before);
  d.add(m.patterns.size());
  for (const auto& hit : m.patterns) d.add(std::uint64_t{hit.pattern_id} << 32 | hit.count);
  for (const auto& e : w.events) {
    FUZZ_CHECK(e.name.size() <= 255 && e.message.size() <= 65535);
    d.add(e.timestamp_ns);
    d.add(std::uint64_t{e.level} | std::uint64_t{e.kind} << 8 | std::uint64_t{e.flags} << 16 |
          std::uint64_t{e.pattern} << 24);
    d.add(e.name);
    d.add(e.message);
  }
}

// Reads the scratch file (of `size` bytes) to its end and checks the
// invariants; nothing when open() rejects it.
std::optional<Outcome> read_file(const ScratchFile& file, std::uint64_t size) {
  std::unique_ptr<Reader> reader;
  try {
    reader = Reader::open(file.path());
  } catch (const std::runtime_error&) {
    return std::nullopt;  // not an ATF file, or a bad header: expected
  }
  // The header record follows the preamble; the reader starts right after it.
  const std::uint64_t header_end = reader->status().offset;
  FUZZ_CHECK(header_end >= atf_fuzz::kPreambleSize + atf_fuzz::kRecordHeaderSize && header_end <= size);
  FUZZ_CHECK(reader->status().reason == StopReason::none);
  Outcome out;
  Digest digest;
  const auto& h = reader->header();
  for (const std::string* text : {&h.preroll_version, &h.host_name, &h.boot_id, &h.process_name, &h.command_line,
                                  &h.policy_json}) {
    digest.add(*text);
  }
  for (const std::uint64_t v : {std::uint64_t{h.format_version}, std::uint64_t{h.pid}, std::uint64_t{h.uid},
                                h.process_start_ns, static_cast<std::uint64_t>(h.clock_realtime_ns),
                                static_cast<std::uint64_t>(h.clock_monotonic_ns), std::uint64_t{h.file_sequence}}) {
    digest.add(v);
  }
  ReadWindow w;
  while (reader->next(w)) {
    FUZZ_CHECK(w.events.size() == w.meta.event_count);
    add_window(digest, w);
    ++out.windows;
    out.events += w.events.size();
    FUZZ_CHECK(reader->status().reason == StopReason::none);
  }
  FUZZ_CHECK(w.events.empty());
  const ReadStatus& s = reader->status();
  FUZZ_CHECK(s.reason != StopReason::none);
  FUZZ_CHECK(s.ok() == (s.reason == StopReason::clean_end || s.reason == StopReason::eof_no_end));
  FUZZ_CHECK(s.windows == out.windows);
  FUZZ_CHECK(s.events == out.events);
  FUZZ_CHECK(s.good_records >= 1 + s.windows);
  FUZZ_CHECK(header_end <= s.offset && s.offset <= s.record_offset && s.record_offset <= size);
  FUZZ_CHECK(s.offset % 8 == 0 && s.record_offset % 8 == 0);
  if (s.ok()) FUZZ_CHECK(s.offset == size && s.record_offset == size);

  // Once stopped, a reader stays stopped and says the same.
  const ReadStatus before = s;
  FUZZ_CHECK(!reader->next(w) && w.events.empty());
  FUZZ_CHECK(reader->status().reason == before.reason && reader->status().offset == before.offset &&
             reader->status().windows == before.windows && reader->status().events == before.events);

  out.status = s;
  out.digest = digest.value();
  return out;
}

void check_bytes(ScratchFile& file, const std::uint8_t* data, std::size_t size) {
  file.write(data, size);
  const std::optional<Outcome> whole = read_file(file, size);
  if (!whole || whole->status.ok()) return;

  // The whole prefix: cut at status().offset the file must read whole, with
  // the same header and windows.
  file.truncate(whole->status.offset);
  const std::optional<Outcome> prefix = read_file(file, whole->status.offset);
  FUZZ_CHECK(prefix.has_value());
  FUZZ_CHECK(prefix->status.ok());
  FUZZ_CHECK(prefix->windows == whole->windows && prefix->events == whole->events);
  FUZZ_CHECK(prefix->digest == whole->digest);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ScratchFile file;
  check_bytes(file, data, size);

  std::vector<std::uint8_t> sealed(data, data + size);
  if (atf_fuzz::reseal_checksums(sealed.data(), sealed.size())) check_bytes(file, sealed.data(), sealed.size());
  return 0;
}
