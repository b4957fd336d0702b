// The run's loop: reads the program's stdout and stderr as they come
// (poll), writes every chunk through at once and unchanged, splits each
// stream into lines and records every line as an event; and notices the
// program's exit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "child_process.hpp"
#include "line_splitter.hpp"
#include "passthrough.hpp"

namespace preroll::run {

struct PumpOptions {
  std::size_t max_piece = 4096;  // longest event; longer lines become several
  bool guess_levels = true;
  int stdout_level = 2;          // PREROLL_INFO: lines without a marker
  int stderr_level = 2;
  // After the program exited, how long to keep passing through output that
  // processes it left behind still write to its pipes. nullopt: until they
  // close them.
  std::optional<double> drain_seconds;
};

// One of the program's output streams.
class OutputStream {
 public:
  // Owns read_fd.
  OutputStream(const char* event_name, int read_fd, int out_fd, int default_level, const PumpOptions& o);
  ~OutputStream();
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;

  // Reads what is there (at most one buffer); false at end of stream.
  bool read_once(char* buf, std::size_t size);
  // Reads until nothing more is there now (or a bound); then ends the stream.
  void drain_and_close(char* buf, std::size_t size);
  // End of stream: a partial last line is recorded.
  void close();

  [[nodiscard]] bool is_open() const noexcept { return open_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  void handle(std::string_view bytes);
  void record(const Piece& p);

  const char* name_;
  std::size_t name_len_;
  int fd_;
  bool open_ = true;
  Passthrough out_;
  LineSplitter splitter_;
  int default_level_;
  bool guess_;
  std::optional<int> line_guess_;  // the highest marker seen in the current line
};

// Runs until both streams ended and the program exited (or the drain time
// after its exit passed, or a signal came after its exit). The program is
// reaped when this returns.
void pump_until_exit(ChildProcess& child, const SignalRelay& relay, const PumpOptions& options);

}  // namespace preroll::run
