// Persists one client's windows into its ATF files through the daemon's
// FileStore. The first file is created on the first persisted window (a
// client whose windows are all discarded leaves no file). File names:
// <process>-<pid>-<YYYYmmddTHHMMSSZ>-<NNN>.atf, from the client's start time
// (UTC), NNN counting the files of a rotation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/file_store.hpp"
#include "window_sink.hpp"

namespace preroll::daemon {

struct ClientIdentity {
  std::uint32_t pid = 0;  // from SO_PEERCRED
  std::uint32_t uid = 0;  // from SO_PEERCRED
  std::string process_name;
  std::string command_line;
  std::uint64_t start_monotonic_ns = 0;
  std::uint64_t start_realtime_ns = 0;
};

class AtfSink final : public WindowSink {
 public:
  AtfSink(FileStore& store, const ClientIdentity& client, std::string policy_json);
  ~AtfSink() override;

  bool persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) override;
  // Closes the current file (writes its end record). Safe to call more than once.
  void close() noexcept;

  // The file being written, or the last one written (empty before the first).
  // Safe from any thread.
  [[nodiscard]] std::filesystem::path file() const { return stream_->current_file(); }
  // Bytes appended to this client's files. Safe from any thread.
  [[nodiscard]] std::uint64_t bytes_written() const noexcept { return stream_->bytes_written(); }

 private:
  FileStore& store_;
  std::unique_ptr<FileStore::Stream> stream_;
};

// The base of a client's file names: <process>-<pid>-<YYYYmmddTHHMMSSZ>.
std::string file_base_name(const ClientIdentity& client);

// Host-level facts for file headers.
std::string host_name();
std::string boot_id();
std::string read_command_line(std::uint32_t pid);

}  // namespace preroll::daemon
