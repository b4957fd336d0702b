// ATF writer. Each append is built whole in memory and written with one
// write(2) loop, so a reader only ever sees whole records or a cut tail; on a
// failed write the file is truncated back to its last complete record.
#include "preroll/atf/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>
#include <zstd.h>

#include "format.hpp"
#include "payloads.hpp"

namespace preroll::atf {

namespace {

// A buffer grown by one huge window is released afterwards instead of
// pinning its memory for the life of the writer.
constexpr std::size_t kKeepBufferCapacity = 16u << 20;

}  // namespace

// Not in the anonymous namespace: Writer::Impl, a member of an exported
// class, holds one (GCC's -Wsubobject-linkage, seen in unity builds).
struct WriterZstdDeleter {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};

std::string_view to_string(Compression c) noexcept {
  switch (c) {
    case Compression::none: return "none";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

bool parse_compression(std::string_view text, Compression& out) noexcept {
  if (text == "none") out = Compression::none;
  else if (text == "zstd") out = Compression::zstd;
  else return false;
  return true;
}

struct Writer::Impl {
  std::filesystem::path path;
  int fd = -1;
  std::uint64_t size = 0;  // bytes of complete records in the file
  std::uint64_t windows = 0;
  std::uint64_t events = 0;
  std::uint64_t raw_event_bytes = 0;
  std::uint64_t pending_raw_bytes = 0;  // of the append being built
  bool broken = false;  // a failed write could not be rolled back
  std::vector<std::uint8_t> buffer;
  WriterOptions options;
  std::unique_ptr<ZSTD_CCtx, WriterZstdDeleter> zstd;
  // One EVENTS payload before compression: at most kEventsSplitSize plus one
  // event, so its capacity stays under kKeepBufferCapacity (never released).
  std::vector<std::uint8_t> raw;

  // Appends one EVENTS record holding `raw` to `buffer`: as a zstd frame when
  // compression is on and the frame is smaller, else as is.
  void append_events_record() {
    pending_raw_bytes += raw.size();
    if (zstd) {
      const std::size_t bound = ZSTD_compressBound(raw.size());
      const std::size_t record = format::begin_record(buffer, format::RecordType::events,
                                                      format::record_flags::compressed_zstd);
      const std::size_t at = buffer.size();
      buffer.resize(at + bound);
      const std::size_t n = ZSTD_compress2(zstd.get(), buffer.data() + at, bound, raw.data(), raw.size());
      // An error code is one of the largest size_t values, never below raw.size().
      if (n < raw.size()) {
        buffer.resize(at + n);
        finish(record, "events record");
        return;
      }
      buffer.resize(record);  // incompressible (or a zstd error): store it raw
    }
    const std::size_t record = format::begin_record(buffer, format::RecordType::events);
    buffer.insert(buffer.end(), raw.begin(), raw.end());
    finish(record, "events record");
  }

  [[noreturn]] void fail(std::errc code, const std::string& what) const {
    throw std::system_error(std::make_error_code(code), path.string() + ": " + what);
  }
  [[noreturn]] void fail_errno(int err, const std::string& what) const {
    throw std::system_error(err, std::generic_category(), path.string() + ": " + what);
  }

  void check_usable() const {
    if (fd < 0) fail(std::errc::bad_file_descriptor, "writer is closed");
    if (broken) fail(std::errc::io_error, "writer unusable: a failed write could not be truncated away");
  }

  void finish(std::size_t record_start, const char* what) {
    if (!format::finish_record(buffer, record_start)) {
      fail(std::errc::invalid_argument, std::string(what) + " exceeds the record size limit");
    }
  }

  // Writes `buffer` at the end of the file. O_APPEND plus a single writer
  // means the bytes land at `size`, so truncating to `size` undoes them.
  void commit(const std::string& what) {
    std::size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t n = ::write(fd, buffer.data() + done, buffer.size() - done);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        continue;
      }
      // write(2) to a regular file is not interrupted by a signal on Linux,
      // nor does it return 0 for a non-empty buffer: defensive only.
      if (n < 0 && errno == EINTR) continue;  // GCOVR_EXCL_BR_LINE: see above
      const int err = n < 0 ? errno : EIO;     // GCOVR_EXCL_BR_LINE: see above
      if (done > 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) broken = true;
      fail_errno(err, what);
    }
    size += buffer.size();
    if (buffer.capacity() > kKeepBufferCapacity) {
      std::vector<std::uint8_t>().swap(buffer);
    }
  }
};

Writer::Writer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

Writer::~Writer() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; callers who care call close() themselves.
  }
}

std::unique_ptr<Writer> Writer::create(const std::filesystem::path& path, const FileHeader& header,
                                      const WriterOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  if (options.compression == Compression::zstd) {
    impl->zstd.reset(ZSTD_createCCtx());
    // GCOVR_EXCL_START: ZSTD_createCCtx fails only when malloc does, and the
    // parameters are valid (a level clamped to zstd's range, flags 0 and 1).
    if (!impl->zstd) impl->fail(std::errc::not_enough_memory, "cannot create a zstd context");
    // The frame records its content size (the reader bounds its buffer by
    // it) and a zstd checksum is redundant with the record's xxHash.
    const int level = std::clamp(options.zstd_level, 1, ZSTD_maxCLevel());
    if (ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd.get(), ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd.get(), ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(impl->zstd.get(), ZSTD_c_checksumFlag, 0))) {
      impl->fail(std::errc::invalid_argument, "cannot set zstd parameters");
    }
    // GCOVR_EXCL_STOP
  }
  // Encode before creating the file, so a header too big leaves nothing behind.
  format::append_preamble(impl->buffer);
  const std::size_t record = format::begin_record(impl->buffer, format::RecordType::file_header);
  format::append_header_payload(impl->buffer, header);
  impl->finish(record, "file header");

  impl->fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_CLOEXEC | O_WRONLY | O_APPEND, 0640);
  if (impl->fd < 0) impl->fail_errno(errno, "cannot create");
  try {
    impl->commit("cannot write the file header");
  } catch (...) {
    // The file is ours (O_EXCL) and holds no complete header: useless.
    ::close(impl->fd);
    impl->fd = -1;
    ::unlink(path.c_str());
    throw;
  }
  return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

std::uint64_t Writer::append_window(const WindowMeta& meta, std::span<const EventView> events) {
  Impl& w = *impl_;
  w.check_usable();
  const std::string label = "window " + std::to_string(meta.window_id);
  if (meta.event_count != events.size()) {
    w.fail(std::errc::invalid_argument, label + ": event_count " + std::to_string(meta.event_count) + " but " +
                                            std::to_string(events.size()) + " events given");
  }
  if (meta.patterns.size() > format::kMaxPatternHits) {
    w.fail(std::errc::invalid_argument, label + ": too many pattern hits");
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].name.size() > format::kMaxNameSize || events[i].message.size() > format::kMaxMessageSize) {
      w.fail(std::errc::invalid_argument, label + ": event " + std::to_string(i) +
                                              " name or message over the 255/65535 byte limit");
    }
  }

  w.buffer.clear();
  w.pending_raw_bytes = 0;
  const std::size_t window_record = format::begin_record(w.buffer, format::RecordType::window);
  format::append_window_payload(w.buffer, meta);
  w.finish(window_record, "window record");

  // A batch closes before it would pass kEventsSplitSize, and always takes at
  // least one event (one event is far below the record limit).
  std::size_t next = 0;
  while (next < events.size()) {
    const std::size_t first = next;
    std::size_t payload = format::kEventsBatchHeaderSize + format::encoded_event_size(events[next]);
    ++next;
    while (next < events.size() && payload + format::encoded_event_size(events[next]) <= format::kEventsSplitSize) {
      payload += format::encoded_event_size(events[next]);
      ++next;
    }
    w.raw.clear();
    format::append_events_batch_header(
        w.raw, {meta.window_id, static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(next - first)});
    for (std::size_t i = first; i < next; ++i) format::append_event(w.raw, events[i]);
    w.append_events_record();
  }
  const std::uint64_t appended = w.buffer.size();
  w.commit("cannot append " + label);
  w.windows += 1;
  w.events += events.size();
  w.raw_event_bytes += w.pending_raw_bytes;
  return appended;
}

void Writer::sync() {
  Impl& w = *impl_;
  w.check_usable();
  if (::fdatasync(w.fd) != 0) w.fail_errno(errno, "fdatasync");
}

void Writer::close(bool sync_data) {
  Impl& w = *impl_;
  if (w.fd < 0) return;
  std::exception_ptr error;
  if (!w.broken) {
    try {
      w.buffer.clear();
      const std::size_t record = format::begin_record(w.buffer, format::RecordType::end);
      format::append_end_payload(w.buffer, {w.windows, w.events, w.size});
      w.finish(record, "end record");
      w.commit("cannot write the end record");
      if (sync_data && ::fdatasync(w.fd) != 0) w.fail_errno(errno, "fdatasync");
    } catch (...) {
      error = std::current_exception();
    }
  }
  const int rc = ::close(w.fd);
  const int close_errno = errno;
  w.fd = -1;
  if (error) std::rethrow_exception(error);
  // EINTR from close(2) on Linux still closed the descriptor; nothing to redo.
  if (rc != 0 && close_errno != EINTR) w.fail_errno(close_errno, "close");
}

bool Writer::usable() const noexcept { return impl_->fd >= 0 && !impl_->broken; }
std::uint64_t Writer::bytes_written() const noexcept { return impl_->size; }
std::uint64_t Writer::windows_written() const noexcept { return impl_->windows; }
std::uint64_t Writer::raw_event_bytes() const noexcept { return impl_->raw_event_bytes; }
const std::filesystem::path& Writer::path() const noexcept { return impl_->path; }

}  // namespace preroll::atf
