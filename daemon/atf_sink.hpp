// Persists one client's windows into its ATF file, created on the first
// persisted window (a client whose windows are all discarded leaves no file).
// File name: <process>-<pid>-<YYYYmmddTHHMMSS>.atf, from the client's start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "preroll/atf/writer.hpp"
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
  AtfSink(std::filesystem::path output_dir, ClientIdentity client, std::string policy_json);
  ~AtfSink() override;

  bool persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) override;
  // Closes the file (writes its end record). Safe to call more than once.
  void close() noexcept;

  [[nodiscard]] const std::filesystem::path& file() const noexcept { return path_; }

 private:
  bool open_file();

  std::filesystem::path dir_;
  ClientIdentity client_;
  std::string policy_json_;
  std::filesystem::path path_;
  std::unique_ptr<atf::Writer> writer_;
  std::uint64_t next_window_id_ = 0;
  std::uint64_t errors_ = 0;
};

// Host-level facts for file headers.
std::string host_name();
std::string boot_id();
std::string read_command_line(std::uint32_t pid);

}  // namespace preroll::daemon
