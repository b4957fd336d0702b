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

#include "preroll/atf/types.hpp"

namespace preroll::atf {

class Writer {
 public:
  // Creates `path` (must not exist; mode 0640) and writes the file preamble
  // and the header record.
  static std::unique_ptr<Writer> create(const std::filesystem::path& path, const FileHeader& header);

  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends the window's metadata record followed by its event record(s).
  // meta.event_count must equal events.size(). Returns the bytes appended.
  std::uint64_t append_window(const WindowMeta& meta, std::span<const EventView> events);

  // Flushes the file's data to the device (fdatasync). No policy calls it yet;
  // it exists so the daemon can choose one without an API change.
  void sync();

  // Writes the end-of-file record and closes. Idempotent; the destructor
  // calls it and swallows errors.
  void close();

  [[nodiscard]] std::uint64_t bytes_written() const noexcept;  // file size so far
  [[nodiscard]] std::uint64_t windows_written() const noexcept;
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preroll::atf
