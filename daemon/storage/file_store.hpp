// The output directory as prerolld manages it: every client's files, their
// rotation, the disk quota, the fsync policy, and what happens when a write
// fails. One FileStore per daemon, used only by the persistence worker
// thread (its counters are atomics in DaemonStats, read by the control
// socket).
//
// Guarantees:
// - A file being written is never deleted; the quota deletes the oldest
//   closed files first (files found at start-up count as closed, oldest by
//   modification time).
// - A failed write (disk full, I/O error) loses only that window: the writer
//   truncates the file back to its last complete record, the window is
//   counted as failed, and the next window tries again, so writes resume by
//   themselves when space returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "daemon_stats.hpp"
#include "preroll/atf/writer.hpp"
#include "storage/storage_config.hpp"

namespace preroll::daemon {

class FileStore {
 public:
  // Scans `dir` for existing *.atf files (they count against the quota and
  // are deleted first) and applies the quota to them. The directory exists.
  FileStore(std::filesystem::path dir, const StorageConfig& config, DaemonStats& stats);
  ~FileStore();
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  // One client's sequence of files: <base>-000.atf, <base>-001.atf, ...
  // A stream opens its first file on its first window.
  class Stream {
   public:
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    // The file being written, or the last one (empty before the first).
    // A copy: the control socket asks from the io thread.
    [[nodiscard]] std::filesystem::path current_file() const {
      std::lock_guard lock(path_mutex_);
      return path_;
    }
    [[nodiscard]] std::uint32_t files_opened() const noexcept { return files_; }
    // Bytes this stream appended to its files (after compression).
    [[nodiscard]] std::uint64_t bytes_written() const noexcept {
      return bytes_written_.load(std::memory_order_relaxed);
    }

   private:
    friend class FileStore;
    Stream(FileStore& store, std::string base, atf::FileHeader header, std::string label);
    FileStore& store_;
    std::string base_;
    atf::FileHeader header_;
    std::string label_;  // "pid 123 (name)", for log lines
    std::uint32_t sequence_ = 0;
    std::uint32_t files_ = 0;
    mutable std::mutex path_mutex_;  // guards path_: written by the worker, read by the io thread
    std::filesystem::path path_;
    std::atomic<std::uint64_t> bytes_written_{0};
    std::unique_ptr<atf::Writer> writer_;
    bool dirty_ = false;  // data written since the last fdatasync
    std::uint64_t failures_ = 0;  // consecutive failed windows
    std::chrono::steady_clock::time_point last_report_{};
  };

  // `base` names the client (process, pid, start time); `label` is for logs.
  std::unique_ptr<Stream> open_stream(std::string base, atf::FileHeader header, std::string label);

  // Writes one window to the stream's current file (rotating or creating it
  // first). False when the window was not written; the reason is logged and
  // counted (write_errors or quota).
  bool append(Stream& s, const atf::WindowMeta& meta, std::span<const atf::EventView> events);

  // Closes the stream's file (END record; fdatasync unless --fsync never).
  void close(Stream& s) noexcept;

  // --fsync interval: fdatasync every file with unsynced data. The worker
  // calls it every sync_interval().
  void sync_dirty() noexcept;
  // prerollctl flush: fdatasync every open file with unsynced data, whatever
  // the policy. Returns the files synced.
  std::uint32_t sync_all() noexcept;
  // When sync_dirty() is due; nullopt unless --fsync interval.
  [[nodiscard]] std::optional<std::chrono::nanoseconds> sync_interval() const noexcept;

  [[nodiscard]] std::uint64_t quota() const noexcept { return quota_; }
  [[nodiscard]] std::uint64_t usage() const noexcept { return usage_; }
  [[nodiscard]] std::uint64_t rotate_at() const noexcept { return rotate_at_; }

 private:
  struct ClosedFile {
    std::filesystem::path path;
    std::uint64_t size = 0;
  };

  bool open_file(Stream& s);
  void close_file(Stream& s, bool sync) noexcept;
  // Deletes the oldest closed files until `incoming` more bytes fit.
  bool make_room(std::uint64_t incoming);
  void set_usage(std::uint64_t bytes) noexcept;
  void report_failure(Stream& s, const std::string& what);

  std::filesystem::path dir_;
  StorageConfig config_;
  DaemonStats& stats_;
  std::uint64_t quota_ = 0;      // 0: none
  std::uint64_t rotate_at_ = 0;  // 0: never
  std::uint64_t usage_ = 0;      // bytes of *.atf files: closed ones and those being written
  std::deque<ClosedFile> closed_;  // deletion order: oldest first
  std::set<Stream*> open_;         // streams with a file open
  std::chrono::steady_clock::time_point last_quota_report_{};
};

// Upper bound of the bytes a window takes in a file, before compression.
std::uint64_t window_size_bound(const atf::WindowMeta& meta, std::span<const atf::EventView> events) noexcept;

}  // namespace preroll::daemon
