// Sequential access to the framed records of an ATF file, trusting nothing:
// a record is handed out only when its whole header, payload and padding are
// in the file, its length is within the hard limit, its padding is zero and
// its checksum matches. Lengths are checked against the bytes left in the
// file before anything is allocated.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "format.hpp"
#include "preroll/atf/reader.hpp"

struct ZSTD_DCtx_s;

namespace preroll::atf::detail {

struct Record {
  std::uint64_t offset = 0;  // of the record header
  format::RecordHeader header;
  // Valid until the next read_record(); already decompressed when the header
  // has COMPRESSED_ZSTD (header.length is then the stored size).
  std::span<const std::uint8_t> payload;
};

struct RecordResult {
  enum class Kind { record, end_of_file, damaged };
  Kind kind = Kind::record;
  StopReason reason = StopReason::none;  // when damaged: truncated, bad_checksum or bad_record
  std::string detail;
};

class RecordFile {
 public:
  // Throws std::runtime_error("<path>: cannot open: ...") and the like.
  explicit RecordFile(const std::filesystem::path& path);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // Empty when the file starts with a valid preamble, else why not.
  [[nodiscard]] std::string read_preamble();

  // Reads the record at offset(). end_of_file means offset() is exactly the
  // end of the file. After `damaged` the file position is unspecified: the
  // caller stops. Throws std::system_error on a device read error.
  RecordResult read_record(Record& out);

  [[nodiscard]] std::uint64_t offset() const noexcept { return offset_; }
  // Current size; the file may still be growing under a running writer.
  [[nodiscard]] std::uint64_t current_size();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  // Bytes in the file from `from` on, refreshing the size only when the
  // cached one is not enough (a live file grows).
  std::uint64_t available(std::uint64_t from, std::uint64_t wanted);
  // Reads exactly n bytes or reports how many it got; throws on read errors.
  std::size_t read_fully(std::uint8_t* into, std::size_t n);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::uint64_t offset_ = 0;
  std::uint64_t known_size_ = 0;
  std::vector<std::uint8_t> buffer_;
  // Inflates a COMPRESSED_ZSTD payload into inflated_; empty, or why not.
  std::string decompress(std::span<const std::uint8_t> frame);
  ZSTD_DCtx_s* zstd_ = nullptr;        // created on the first compressed record
  std::vector<std::uint8_t> inflated_;  // the last decompressed payload
};

}  // namespace preroll::atf::detail
