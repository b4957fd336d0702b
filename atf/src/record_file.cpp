#include "record_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <zstd.h>

namespace preroll::atf::detail {

namespace {

std::string hex(std::uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

RecordResult damaged(StopReason reason, std::string detail) {
  return RecordResult{RecordResult::Kind::damaged, reason, std::move(detail)};
}

}  // namespace

RecordFile::RecordFile(const std::filesystem::path& path) : path_(path) {
  // "e": O_CLOEXEC, so a daemon's children never inherit the descriptor.
  file_ = std::fopen(path.c_str(), "rbe");
  if (file_ == nullptr) {
    throw std::runtime_error(path.string() + ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  // fstat of a descriptor just opened does not fail; if it did, it would be reported as not regular.
  if (::fstat(::fileno(file_), &st) != 0) st.st_mode = 0;  // GCOVR_EXCL_BR_LINE: see above
  if (!S_ISREG(st.st_mode)) {
    std::fclose(file_);
    throw std::runtime_error(path.string() + ": not a regular file");
  }
  known_size_ = static_cast<std::uint64_t>(st.st_size);
}

RecordFile::~RecordFile() {
  std::fclose(file_);
  ZSTD_freeDCtx(zstd_);
}

std::string RecordFile::decompress(std::span<const std::uint8_t> frame) {
  // One whole frame, its content size declared and within the record limit:
  // the buffer is sized by that declaration before any byte is decoded.
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size()) {
    return "compressed payload is not exactly one zstd frame";
  }
  // ZSTD_CONTENTSIZE_UNKNOWN, or ZSTD_CONTENTSIZE_ERROR (the two largest
  // values), which a frame ZSTD_findFrameCompressedSize accepted cannot give.
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size >= ZSTD_CONTENTSIZE_ERROR) {
    return "zstd frame without a content size";
  }
  if (size > format::kMaxPayload) {
    return "zstd frame decompresses to " + std::to_string(size) + " bytes, over the record limit";
  }
  // GCOVR_EXCL_START: ZSTD_createDCtx fails only when malloc does, which a test cannot make happen.
  if (zstd_ == nullptr && (zstd_ = ZSTD_createDCtx()) == nullptr) {
    throw std::runtime_error(path_.string() + ": cannot create a zstd context");
  }
  // GCOVR_EXCL_STOP
  inflated_.resize(size);
  const std::size_t n = ZSTD_decompressDCtx(zstd_, inflated_.data(), inflated_.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return std::string("zstd: ") + ZSTD_getErrorName(n);
  // zstd itself rejects a frame whose content is not its declared size ("Data corruption detected").
  if (n != size) return "zstd frame shorter than its declared content size";  // GCOVR_EXCL_BR_LINE: see above
  return {};
}

std::uint64_t RecordFile::current_size() {
  struct stat st {};
  // fstat of our own open descriptor does not fail; if it did, the size known before stays.
  if (::fstat(::fileno(file_), &st) == 0) known_size_ = static_cast<std::uint64_t>(st.st_size);  // GCOVR_EXCL_BR_LINE
  return known_size_;
}

std::uint64_t RecordFile::available(std::uint64_t from, std::uint64_t wanted) {
  if (known_size_ < from || known_size_ - from < wanted) (void)current_size();
  return known_size_ > from ? known_size_ - from : 0;
}

std::size_t RecordFile::read_fully(std::uint8_t* into, std::size_t n) {
  const std::size_t got = std::fread(into, 1, n, file_);
  if (got < n && std::ferror(file_)) {
    throw std::system_error(errno, std::generic_category(), path_.string() + ": read error");
  }
  return got;
}

std::string RecordFile::read_preamble() {
  std::uint8_t bytes[format::kPreambleSize];
  const std::size_t got = read_fully(bytes, sizeof bytes);
  std::string why = format::check_preamble({bytes, got});
  if (why.empty()) offset_ = format::kPreambleSize;
  return why;
}

RecordResult RecordFile::read_record(Record& out) {
  out.offset = offset_;
  if (available(offset_, 1) == 0) return RecordResult{RecordResult::Kind::end_of_file, StopReason::none, {}};

  std::uint8_t head[format::kRecordHeaderSize];
  const std::size_t got = read_fully(head, sizeof head);
  if (got < sizeof head) {
    return damaged(StopReason::truncated, "file ends inside a record header (" + std::to_string(got) + " of " +
                                              std::to_string(sizeof head) + " bytes)");
  }
  const format::RecordHeader h = format::decode_record_header(head);
  out.header = h;

  // Header checks that need no payload come first: a damaged length must be
  // rejected before it can size an allocation.
  if (h.type == 0) {
    return damaged(StopReason::bad_record, "record type 0 (zero-filled bytes?)");
  }
  if ((h.flags & ~format::record_flags::known_mask) != 0) {
    return damaged(StopReason::bad_record, "unknown record flags " + hex(h.flags));
  }
  if ((h.flags & format::record_flags::compressed_zstd) != 0 &&
      h.type != static_cast<std::uint16_t>(format::RecordType::events)) {
    return damaged(StopReason::bad_record, "compressed record of type " + hex(h.type) + " (only events may be)");
  }
  if (!format::is_known_type(h.type) && (h.flags & format::record_flags::skippable) == 0) {
    return damaged(StopReason::bad_record, "unknown record type " + hex(h.type));
  }
  if (h.length > format::kMaxPayload) {
    return damaged(StopReason::bad_record, "record length " + std::to_string(h.length) + " exceeds the " +
                                               std::to_string(format::kMaxPayload >> 20) + " MiB limit");
  }
  const std::uint64_t body = format::padded_size(h.length);
  const std::uint64_t left = available(offset_ + format::kRecordHeaderSize, body);
  if (body > left) {
    // A damaged length field pointing past the end looks the same; only the
    // checksum could tell, and it covers bytes that are not there.
    return damaged(StopReason::truncated, "record cut off: its header announces " + std::to_string(body) +
                                              " payload and padding bytes, " + std::to_string(left) +
                                              " remain in the file");
  }

  buffer_.resize(body);
  if (read_fully(buffer_.data(), body) < body) {
    return damaged(StopReason::truncated, "file shrank while reading a record");
  }
  const std::span<const std::uint8_t> payload(buffer_.data(), h.length);
  if (!std::all_of(buffer_.begin() + h.length, buffer_.end(), [](std::uint8_t b) { return b == 0; })) {
    return damaged(StopReason::bad_record, "non-zero padding bytes");
  }
  const std::uint64_t sum = format::record_checksum(h.type, h.flags, payload);
  if (sum != h.checksum) {
    return damaged(StopReason::bad_checksum, "checksum mismatch (stored " + hex(h.checksum) + ", computed " +
                                                 hex(sum) + ")");
  }
  if ((h.flags & format::record_flags::compressed_zstd) != 0) {
    if (std::string why = decompress(payload); !why.empty()) return damaged(StopReason::bad_record, why);
    out.payload = std::span<const std::uint8_t>(inflated_.data(), inflated_.size());
  } else {
    out.payload = payload;
  }
  offset_ += format::kRecordHeaderSize + body;
  return RecordResult{};
}

}  // namespace preroll::atf::detail
