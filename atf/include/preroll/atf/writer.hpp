// ATF writer: appends persisted windows to one file. Used by prerolld.
//
// Error policy: every failure throws std::system_error whose message names the
// file; a failed append leaves the file ending at its last complete record
// (the writer truncates back), so an earlier record is never damaged.
// Arguments that cannot be encoded (event_count not matching the events, a
// name over 255 or a message over 65535 bytes, a record over the 64 MiB limit)
// throw std::system_error with std::errc::invalid_argument before anything is
// written; calls after close() throw it with std::errc::bad_file_descriptor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "preroll/atf/types.hpp"

namespace preroll::atf {

// How EVENTS records are stored (docs/atf.md). WINDOW, header and END records
// are never compressed: they are small and a reader must see them cheaply.
enum class Compression : std::uint8_t {
  none,
  zstd,  // each EVENTS record one zstd frame, kept only when it is smaller
};

// "none" / "zstd"; parse returns false for anything else.
std::string_view to_string(Compression c) noexcept;
bool parse_compression(std::string_view text, Compression& out) noexcept;

struct WriterOptions {
  Compression compression = Compression::none;
  int zstd_level = 3;  // 1 (fastest) .. 19; zstd's own default is 3
};

class Writer {
 public:
  // Creates `path` (must not exist; mode 0640) and writes the file preamble
  // and the header record.
  static std::unique_ptr<Writer> create(const std::filesystem::path& path, const FileHeader& header,
                                        const WriterOptions& options = {});

  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends the window's metadata record followed by its event record(s).
  // meta.event_count must equal events.size(). Returns the bytes appended.
  std::uint64_t append_window(const WindowMeta& meta, std::span<const EventView> events);

  // Flushes the file's data to the device (fdatasync). The daemon's --fsync
  // policy decides when; the writer never syncs on its own.
  void sync();

  // Writes the end-of-file record, fdatasyncs when `sync_data`, and closes.
  // Idempotent; the destructor calls it and swallows errors.
  void close(bool sync_data = false);

  // False after close(), or after a failed append could not be truncated
  // away: such a writer refuses appends and the caller starts a new file.
  [[nodiscard]] bool usable() const noexcept;
  [[nodiscard]] std::uint64_t bytes_written() const noexcept;  // file size so far
  [[nodiscard]] std::uint64_t windows_written() const noexcept;
  // Payload bytes of the EVENTS records before compression (equal to the
  // stored ones without compression): the storage ratio's numerator.
  [[nodiscard]] std::uint64_t raw_event_bytes() const noexcept;
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace preroll::atf
