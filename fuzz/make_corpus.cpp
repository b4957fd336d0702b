// Writes the seed corpus of atf_reader_fuzzer: small valid and damaged ATF
// files, each under 8 KiB, named for what they hold. Whole files come from
// preroll::atf::Writer; the damaged ones are cuts and edits of those, and the
// records no writer makes (a skippable unknown type, a window split over a
// compressed and a plain EVENTS record) are encoded here from docs/atf.md.
//
//   atf_make_corpus DIR     (re)writes DIR/<name> for every seed; same bytes every run
//
// Regenerate the checked-in corpus (docs/fuzzing.md):
//   ./build/fuzz/atf_make_corpus fuzz/corpus/atf_reader
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>
#include <zstd.h>

#include "atf_record_bytes.hpp"
#include "preroll/atf/reader.hpp"
#include "preroll/atf/writer.hpp"

namespace {

namespace fs = std::filesystem;
using namespace preroll::atf;
using Bytes = std::vector<std::uint8_t>;
using atf_fuzz::put_le;

constexpr std::size_t kMaxSeedSize = 8 * 1024;

FileHeader seed_header() {
  FileHeader h;
  h.preroll_version = "0.1.0";
  h.host_name = "fuzz-host";
  h.boot_id = "00000000-0000-4000-8000-000000000000";
  h.pid = 4242;
  h.uid = 1000;
  h.process_name = "seed-app";
  h.command_line = "seed-app --port 8080";
  h.process_start_ns = 1'000'000'000;
  h.clock_realtime_ns = 1'700'000'000'000'000'000;
  h.clock_monotonic_ns = 2'000'000'000;
  h.policy_json = R"({"patterns":[{"literal":"timeout"},{"regex":"fail(ed)?"}]})";
  h.file_sequence = 0;
  return h;
}

// A window that owns its events' bytes; views() is what Writer takes.
struct SeedWindow {
  WindowMeta meta;
  std::vector<StoredEvent> events;

  [[nodiscard]] std::vector<EventView> views() const {
    std::vector<EventView> out;
    for (const StoredEvent& e : events) {
      out.push_back({e.timestamp_ns, e.level, e.kind, e.flags, e.name, e.message, e.pattern});
    }
    return out;
  }
};

// Repetitive log lines (so zstd keeps its frames), with an empty name, a NUL
// and a 0xFF byte among them.
SeedWindow seed_window(std::uint64_t id, std::uint32_t n) {
  SeedWindow w;
  for (std::uint32_t i = 0; i < n; ++i) {
    StoredEvent& e = w.events.emplace_back();
    e.timestamp_ns = 3'000'000'000 + id * 1'000'000 + i * 1000;
    e.level = static_cast<std::uint8_t>(i == 3 ? 4 : 2);
    e.flags = i == 3 ? event_flags::policy_marked : 0;
    e.pattern = i == 3 ? pattern_field(0) : 0;
    e.name = i == 1 ? "" : "http";
    e.message = "GET /api/items/" + std::to_string(i) + " 200 3ms";
    if (i == 2) e.message += std::string("\0\xff", 2);
    if (i == 3) e.message = "query timeout after 5s";
  }
  WindowMeta& m = w.meta;
  m.window_id = id;
  m.lane = static_cast<std::uint32_t>(id % 2);
  m.tid = 5000 + static_cast<std::uint32_t>(id);
  m.ring_sequence = id + 1;
  m.reason = n > 3 ? KeepReason::marked : KeepReason::pre_roll;
  m.start_ns = n > 0 ? w.events.front().timestamp_ns : 0;
  m.end_ns = n > 0 ? w.events.back().timestamp_ns : 0;
  m.first_marked_ns = n > 3 ? w.events[3].timestamp_ns : 0;
  m.event_count = n;
  m.marked_count = n > 3 ? 1 : 0;
  m.lost_events_before = id;
  if (n > 3) m.patterns = {{0, 1}};
  return w;
}

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A file written by Writer, and where each of its parts ends.
struct Written {
  Bytes bytes;
  std::uint64_t header_end = 0;
  std::vector<std::uint64_t> window_ends;
  std::uint64_t end_record = 0;  // offset of the END record
};

Written write_file(const fs::path& dir, const std::vector<SeedWindow>& windows, Compression compression) {
  const fs::path path = dir / "file.atf";
  fs::remove(path);
  Written out;
  {
    auto writer = Writer::create(path, seed_header(), WriterOptions{compression});
    out.header_end = writer->bytes_written();
    for (const SeedWindow& w : windows) {
      writer->append_window(w.meta, w.views());
      out.window_ends.push_back(writer->bytes_written());
    }
    out.end_record = writer->bytes_written();
    writer->close();
  }
  out.bytes = read_bytes(path);
  fs::remove(path);
  return out;
}

Bytes cut(const Bytes& bytes, std::uint64_t size) { return Bytes(bytes.begin(), bytes.begin() + size); }

Bytes end_record(std::uint64_t windows, std::uint64_t events, std::uint64_t offset) {
  Bytes payload;
  put_le(payload, windows, 8);
  put_le(payload, events, 8);
  put_le(payload, offset, 8);
  return atf_fuzz::encode_record(atf_fuzz::kTypeEnd, 0, payload);
}

// `prefix` (whole records, no END) with `record` inserted at `at`, then an
// END record whose counts and offset match.
Bytes with_record(const Bytes& prefix, std::uint64_t at, const Bytes& record, std::uint64_t windows,
                  std::uint64_t events) {
  Bytes out = cut(prefix, at);
  out.insert(out.end(), record.begin(), record.end());
  out.insert(out.end(), prefix.begin() + static_cast<std::ptrdiff_t>(at), prefix.end());
  const Bytes end = end_record(windows, events, out.size());
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

Bytes window_payload(const WindowMeta& m) {
  Bytes p;
  put_le(p, m.window_id, 8);
  put_le(p, m.lane, 4);
  put_le(p, m.tid, 4);
  put_le(p, m.ring_sequence, 8);
  put_le(p, static_cast<std::uint8_t>(m.reason), 1);
  put_le(p, 0, 3);
  put_le(p, m.patterns.size(), 4);
  put_le(p, m.start_ns, 8);
  put_le(p, m.end_ns, 8);
  put_le(p, m.first_marked_ns, 8);
  put_le(p, m.event_count, 4);
  put_le(p, m.marked_count, 4);
  put_le(p, m.lost_events_before, 8);
  put_le(p, m.lost_bytes_before, 8);
  for (const PatternHit& h : m.patterns) {
    put_le(p, h.pattern_id, 4);
    put_le(p, h.count, 4);
  }
  return p;
}

Bytes events_payload(std::uint64_t window_id, std::uint32_t first, const std::vector<StoredEvent>& events,
                     std::uint32_t count) {
  Bytes p;
  put_le(p, window_id, 8);
  put_le(p, first, 4);
  put_le(p, count, 4);
  for (std::uint32_t i = first; i < first + count; ++i) {
    const StoredEvent& e = events[i];
    put_le(p, e.timestamp_ns, 8);
    p.push_back(e.level);
    p.push_back(e.kind);
    p.push_back(e.flags);
    put_le(p, e.name.size(), 1);
    put_le(p, e.message.size(), 2);
    put_le(p, e.pattern, 2);
    p.insert(p.end(), e.name.begin(), e.name.end());
    p.insert(p.end(), e.message.begin(), e.message.end());
  }
  return p;
}

// One zstd frame of `payload`, declaring its content size or not.
Bytes zstd_frame(const Bytes& payload, bool with_content_size = true) {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) throw std::runtime_error("zstd: cannot create a context");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, with_content_size ? 1 : 0);
  Bytes frame(ZSTD_compressBound(payload.size()));
  const std::size_t n = ZSTD_compress2(cctx.get(), frame.data(), frame.size(), payload.data(), payload.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  frame.resize(n);
  return frame;
}

// Header of a Writer file, then one window whose events are split over a
// zstd-compressed EVENTS record and a plain one, then END.
Bytes split_window_file(const Written& header_only, const SeedWindow& w) {
  Bytes out = cut(header_only.bytes, header_only.header_end);
  const auto append = [&out](const Bytes& record) { out.insert(out.end(), record.begin(), record.end()); };
  const std::uint32_t first_part = w.meta.event_count / 2;
  append(atf_fuzz::encode_record(atf_fuzz::kTypeWindow, 0, window_payload(w.meta)));
  append(atf_fuzz::encode_record(atf_fuzz::kTypeEvents, atf_fuzz::kFlagCompressedZstd,
                                 zstd_frame(events_payload(w.meta.window_id, 0, w.events, first_part))));
  append(atf_fuzz::encode_record(atf_fuzz::kTypeEvents, 0,
                                 events_payload(w.meta.window_id, first_part, w.events,
                                                w.meta.event_count - first_part)));
  append(end_record(1, w.meta.event_count, out.size()));
  return out;
}

// Header of a Writer file, then a window of one event whose only EVENTS
// record holds `frame` (compressed); no END.
Bytes compressed_window_file(const Written& header_only, const Bytes& frame) {
  Bytes out = cut(header_only.bytes, header_only.header_end);
  const auto append = [&out](const Bytes& record) { out.insert(out.end(), record.begin(), record.end()); };
  append(atf_fuzz::encode_record(atf_fuzz::kTypeWindow, 0, window_payload(seed_window(0, 1).meta)));
  append(atf_fuzz::encode_record(atf_fuzz::kTypeEvents, atf_fuzz::kFlagCompressedZstd, frame));
  return out;
}

bool has_compressed_events(const Bytes& bytes) {
  bool found = false;
  atf_fuzz::for_each_record(bytes.data(), bytes.size(), [&](std::size_t, std::uint16_t type, std::uint16_t flags,
                                                            std::uint32_t) {
    found = found || (type == atf_fuzz::kTypeEvents && (flags & atf_fuzz::kFlagCompressedZstd) != 0);
  });
  return found;
}

void save(const fs::path& dir, const std::string& name, const Bytes& bytes) {
  if (bytes.size() >= kMaxSeedSize) {
    throw std::runtime_error(name + ": " + std::to_string(bytes.size()) + " bytes, seeds stay under 8 KiB");
  }
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error((dir / name).string() + ": cannot write");
  std::printf("%6zu  %s\n", bytes.size(), name.c_str());
}

void make_corpus(const fs::path& out_dir, const fs::path& scratch) {
  fs::create_directories(out_dir);
  const std::vector<SeedWindow> windows = {seed_window(0, 5), seed_window(1, 0), seed_window(2, 3)};
  constexpr std::uint64_t kEvents = 8;
  // WINDOW records: 80 payload bytes, 8 more per pattern hit (window 0 has one).
  constexpr std::uint64_t kWindowRecord = atf_fuzz::kRecordHeaderSize + 80;
  constexpr std::uint64_t kWindowRecordOneHit = kWindowRecord + 8;
  const Written none = write_file(scratch, {}, Compression::none);
  const Written plain = write_file(scratch, windows, Compression::none);
  const Written zstd = write_file(scratch, windows, Compression::zstd);
  if (!has_compressed_events(zstd.bytes)) throw std::runtime_error("zstd seed has no compressed EVENTS record");

  save(out_dir, "empty", {});
  save(out_dir, "preamble-only", cut(plain.bytes, atf_fuzz::kPreambleSize));
  save(out_dir, "header-only", cut(none.bytes, none.header_end));              // eof_no_end, no windows
  save(out_dir, "3-windows-plain", plain.bytes);                               // clean_end
  save(out_dir, "3-windows-zstd", zstd.bytes);                                 // clean_end, compressed EVENTS
  save(out_dir, "2-windows-no-end", cut(plain.bytes, plain.window_ends[1]));   // eof_no_end
  // Window 2's WINDOW record is whole, its EVENTS record cut in the middle.
  const std::uint64_t window2_events = plain.window_ends[1] + kWindowRecord;
  save(out_dir, "cut-inside-events", cut(plain.bytes, window2_events + 36));   // truncated
  save(out_dir, "cut-inside-record-header", cut(zstd.bytes, zstd.window_ends[0] + 9));  // truncated

  Bytes damaged = plain.bytes;
  damaged[plain.window_ends[1] - 12] ^= 0x20;  // window 1 has no events: this is its WINDOW payload
  save(out_dir, "bad-checksum", damaged);
  Bytes after_end = plain.bytes;
  after_end.insert(after_end.end(), 8, 0);
  save(out_dir, "bytes-after-end", after_end);  // bad_record after 3 windows

  const Bytes unknown = atf_fuzz::encode_record(0x7001, atf_fuzz::kFlagSkippable, {'v', '2', 'x'});
  const Bytes no_end = cut(plain.bytes, plain.end_record);
  save(out_dir, "skippable-between-windows", with_record(no_end, plain.window_ends[0], unknown, 3, kEvents));
  // Right after window 0's WINDOW record, before its EVENTS record.
  save(out_dir, "skippable-inside-window",
       with_record(no_end, plain.header_end + kWindowRecordOneHit, unknown, 3, kEvents));
  save(out_dir, "split-window-zstd-and-plain", split_window_file(none, seed_window(0, 6)));
  // Frames the reader must refuse before decoding (bad_record): no declared
  // content size; a declared size over the 64 MiB record limit (zeros, so
  // the frame itself is a couple of KiB).
  const SeedWindow one = seed_window(0, 1);
  const Bytes one_event = events_payload(0, 0, one.events, 1);
  save(out_dir, "zstd-no-content-size", compressed_window_file(none, zstd_frame(one_event, false)));
  save(out_dir, "zstd-over-record-limit",
       compressed_window_file(none, zstd_frame(Bytes(std::size_t{atf_fuzz::kMaxPayload} + 1, 0))));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  std::string scratch_template = (fs::temp_directory_path() / "atf-make-corpus-XXXXXX").string();
  if (::mkdtemp(scratch_template.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path scratch = scratch_template;
  int status = 0;
  try {
    make_corpus(argv[1], scratch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "atf_make_corpus: %s\n", e.what());
    status = 1;
  }
  std::error_code ignored;
  fs::remove_all(scratch, ignored);
  return status;
}
