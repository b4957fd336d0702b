// ATF reader: streams the windows of one file, recovering every complete
// record of a file whose writer was killed at any byte, and saying where and
// why it stopped. Never trusts the bytes: every length is bounds-checked.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "preroll/atf/types.hpp"

namespace preroll::atf {

// An event that owns its bytes (the reader's buffer is reused).
struct StoredEvent {
  std::uint64_t timestamp_ns = 0;
  std::uint8_t level = 0;
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::string name;
  std::string message;
  std::uint16_t pattern = 0;  // as EventView::pattern: 0 none, n = pattern id n - 1
};

struct ReadWindow {
  WindowMeta meta;
  std::vector<StoredEvent> events;
};

enum class StopReason {
  none,            // still reading
  clean_end,       // end-of-file record found and nothing after it
  eof_no_end,      // file ends on a record boundary without end record (writer still running or killed between records)
  truncated,       // file ends inside a record
  bad_checksum,    // a record's checksum does not match
  bad_record,      // impossible type/length/content
};

std::string_view to_string(StopReason reason) noexcept;

struct ReadStatus {
  StopReason reason = StopReason::none;
  std::uint64_t offset = 0;       // byte offset of the first record not accepted (file size on a clean end)
  std::string detail;             // human-readable why
  std::uint64_t good_records = 0; // records accepted, header included
  std::uint64_t windows = 0;      // complete windows returned
  std::uint64_t events = 0;       // events of the complete windows returned
  // Byte offset of the record that failed. Differs from `offset` when the
  // failing record is inside a window: `offset` is then the window's WINDOW
  // record, so the bytes before `offset` are always whole windows.
  std::uint64_t record_offset = 0;
  [[nodiscard]] bool ok() const noexcept {
    return reason == StopReason::clean_end || reason == StopReason::eof_no_end;
  }
};

class Reader {
 public:
  // Opens the file and reads the preamble and header record. Throws
  // std::runtime_error (message names the file and the problem) when the file
  // cannot be opened or does not start with a valid ATF header.
  static std::unique_ptr<Reader> open(const std::filesystem::path& path);

  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[nodiscard]] const FileHeader& header() const noexcept;

  // Reads the next complete window (metadata and all its events). Returns
  // false at the end of the file or at the first damaged record; status()
  // then tells which. A window whose events are cut off is not returned (out
  // is left empty). Damaged content never throws; a read error of the device
  // (EIO) throws std::system_error naming the file.
  bool next(ReadWindow& out);

  [[nodiscard]] const ReadStatus& status() const noexcept;

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace preroll::atf
