// ATF reader: assembles windows from the records RecordFile hands out.
//
// Recovery rule: the reader only ever returns whole windows. ReadStatus.offset
// is the end of the longest prefix of the file made of the preamble, the
// header and whole windows (and skippable records between them), so
// truncating the file there gives a valid file; record_offset names the
// record that actually failed.
#include "preroll/atf/reader.hpp"

#include <stdexcept>

#include "payloads.hpp"
#include "record_file.hpp"

namespace preroll::atf {

using detail::Record;
using detail::RecordResult;
using format::RecordType;

std::string_view to_string(StopReason reason) noexcept {
  switch (reason) {
    case StopReason::none: return "reading";
    case StopReason::clean_end: return "clean end";
    case StopReason::eof_no_end: return "no end record";
    case StopReason::truncated: return "truncated";
    case StopReason::bad_checksum: return "bad checksum";
    case StopReason::bad_record: return "bad record";
  }
  return "unknown";
}

namespace {

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw std::runtime_error(path.string() + ": " + why);
}

}  // namespace

struct Reader::Impl {
  explicit Impl(const std::filesystem::path& path) : file(path) {}

  detail::RecordFile file;
  FileHeader header;
  ReadStatus status;
  bool stopped = false;

  // The window being assembled by next().
  bool in_window = false;
  std::uint64_t window_offset = 0;
  std::uint64_t window_records = 0;

  void stop(StopReason reason, std::uint64_t record_offset, std::string detail) {
    stopped = true;
    status.reason = reason;
    status.record_offset = record_offset;
    status.offset = in_window ? window_offset : record_offset;
    status.detail = std::move(detail);
  }

  bool read(ReadWindow& out);
  bool accept_events(const Record& rec, ReadWindow& out);
  void accept_end(const Record& rec);
};

Reader::Reader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Reader::~Reader() = default;

std::unique_ptr<Reader> Reader::open(const std::filesystem::path& path) {
  auto impl = std::make_unique<Impl>(path);

  if (std::string why = impl->file.read_preamble(); !why.empty()) refuse(path, why);
  Record rec;
  const RecordResult r = impl->file.read_record(rec);
  if (r.kind == RecordResult::Kind::end_of_file) refuse(path, "no header record after the preamble");
  if (r.kind == RecordResult::Kind::damaged) refuse(path, "bad header record: " + r.detail);
  if (rec.header.type != static_cast<std::uint16_t>(RecordType::file_header)) {
    refuse(path, "first record has type " + std::to_string(rec.header.type) + ", not a file header");
  }
  std::string why;
  if (!format::decode_header_payload(rec.payload, impl->header, why)) refuse(path, why);
  if (impl->header.format_version != format::kVersion) {
    refuse(path, "header says format version " + std::to_string(impl->header.format_version) +
                     ", preamble says " + std::to_string(format::kVersion));
  }
  impl->status.good_records = 1;
  impl->status.offset = impl->file.offset();
  return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

const FileHeader& Reader::header() const noexcept { return impl_->header; }
const ReadStatus& Reader::status() const noexcept { return impl_->status; }

bool Reader::next(ReadWindow& out) {
  out.meta = WindowMeta{};
  out.events.clear();
  if (impl_->stopped) return false;
  if (impl_->read(out)) return true;
  out.meta = WindowMeta{};
  out.events.clear();
  return false;
}

bool Reader::Impl::read(ReadWindow& out) {
  in_window = false;
  for (;;) {
    Record rec;
    const RecordResult r = file.read_record(rec);
    if (r.kind == RecordResult::Kind::end_of_file) {
      if (in_window) {
        stop(StopReason::truncated, rec.offset,
             "file ends inside window " + std::to_string(out.meta.window_id) + " after " +
                 std::to_string(out.events.size()) + " of " + std::to_string(out.meta.event_count) + " events");
      } else {
        stop(StopReason::eof_no_end, rec.offset, "no end record: the writer is running or stopped between windows");
      }
      return false;
    }
    if (r.kind == RecordResult::Kind::damaged) {
      stop(r.reason, rec.offset, r.detail);
      return false;
    }

    std::string why;
    switch (static_cast<RecordType>(rec.header.type)) {
      case RecordType::file_header:
        stop(StopReason::bad_record, rec.offset, "second file header record");
        return false;
      case RecordType::window:
        if (in_window) {
          stop(StopReason::bad_record, rec.offset,
               "window record while window " + std::to_string(out.meta.window_id) + " still expects " +
                   std::to_string(out.meta.event_count - out.events.size()) + " events");
          return false;
        }
        if (!format::decode_window_payload(rec.payload, out.meta, why)) {
          stop(StopReason::bad_record, rec.offset, why);
          return false;
        }
        in_window = true;
        window_offset = rec.offset;
        window_records = 1;
        break;
      case RecordType::events:
        if (!accept_events(rec, out)) return false;
        break;
      case RecordType::end:
        accept_end(rec);
        return false;
      default:
        // Unknown type with the skippable flag (RecordFile rejects the rest).
        if (in_window) {
          ++window_records;
        } else {
          ++status.good_records;
        }
        continue;
    }

    // Only a window or an events record gets here, and either leaves a window open.
    if (out.events.size() == out.meta.event_count) {
      in_window = false;
      status.good_records += window_records;
      status.windows += 1;
      status.events += out.events.size();
      status.offset = file.offset();
      return true;
    }
  }
}

bool Reader::Impl::accept_events(const Record& rec, ReadWindow& out) {
  if (!in_window) {
    stop(StopReason::bad_record, rec.offset, "events record outside a window");
    return false;
  }
  const std::size_t before = out.events.size();
  format::EventsBatch batch;
  std::string why;
  if (!format::decode_events_payload(rec.payload, batch, out.events, why)) {
    stop(StopReason::bad_record, rec.offset, why);
    return false;
  }
  if (batch.window_id != out.meta.window_id || batch.first_event != before ||
      out.events.size() > out.meta.event_count) {
    stop(StopReason::bad_record, rec.offset,
         "events record for window " + std::to_string(batch.window_id) + " from event " +
             std::to_string(batch.first_event) + " (" + std::to_string(batch.count) + ") does not continue window " +
             std::to_string(out.meta.window_id) + " at event " + std::to_string(before) + " of " +
             std::to_string(out.meta.event_count));
    return false;
  }
  ++window_records;
  return true;
}

void Reader::Impl::accept_end(const Record& rec) {
  if (in_window) {
    stop(StopReason::bad_record, rec.offset,
         "end record inside the window at offset " + std::to_string(window_offset));
    return;
  }
  format::EndCounters end;
  std::string why;
  if (!format::decode_end_payload(rec.payload, end, why)) {
    stop(StopReason::bad_record, rec.offset, why);
    return;
  }
  if (end.windows != status.windows || end.events != status.events || end.end_offset != rec.offset) {
    stop(StopReason::bad_record, rec.offset,
         "end record counts " + std::to_string(end.windows) + " windows, " + std::to_string(end.events) +
             " events at offset " + std::to_string(end.end_offset) + "; the file holds " +
             std::to_string(status.windows) + ", " + std::to_string(status.events) + " at " +
             std::to_string(rec.offset));
    return;
  }
  ++status.good_records;
  const std::uint64_t after = file.offset();
  const std::uint64_t size = file.current_size();
  if (size > after) {
    stop(StopReason::bad_record, after, std::to_string(size - after) + " bytes after the end record");
    return;
  }
  stop(StopReason::clean_end, after, "end record found");
}

}  // namespace preroll::atf
