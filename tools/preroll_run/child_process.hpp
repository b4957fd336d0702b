// The wrapped program: started with its stdout and stderr on pipes to us,
// everything else as preroll-run was given it (stdin, other descriptors, the
// environment, signal mask, ignored signals, process group), and the
// signals preroll-run receives passed on to it.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace preroll::run {

// The signals passed on to the program.
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// Process-wide signal handling for one run (one per process).
//
// Each forwarded signal is sent on to the program from the handler itself,
// so it arrives even while preroll-run is blocked writing to a slow stdout.
// A signal the terminal sent to the whole foreground process group (the
// kernel's SI_KERNEL: Ctrl-C, Ctrl-\, hangup) is not sent again when the
// program is in our process group: it has it already, and a second SIGINT
// would turn many programs' graceful stop into a forced one. SIGPIPE is
// ignored in preroll-run (a closed stdout is an error from write, not
// death); the program gets the dispositions preroll-run started with.
class SignalRelay {
 public:
  SignalRelay();
  ~SignalRelay();
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  // Readable after any signal was handled (SIGCHLD included).
  [[nodiscard]] int wake_fd() const noexcept { return wake_[0]; }
  void clear_wake() const noexcept;

  // A forwarded signal that came when there was no program to pass it to
  // (after it exited): a request to stop waiting. 0 if none.
  [[nodiscard]] int stop_request() const noexcept;
  // Whether `sig` was passed on to the program at least once.
  [[nodiscard]] bool passed_on(int sig) const noexcept;

  // For the child: the mask and the signals to reset to their default.
  [[nodiscard]] const sigset_t& original_mask() const noexcept { return original_mask_; }
  [[nodiscard]] const sigset_t& reset_in_child() const noexcept { return reset_in_child_; }

 private:
  int wake_[2] = {-1, -1};
  sigset_t original_mask_;
  sigset_t reset_in_child_;
  struct sigaction saved_[6];
  struct sigaction saved_chld_, saved_pipe_;
};

// Why the program could not be started.
struct StartFailure {
  int error;      // errno
  int exit_code;  // 127 not found, 126 found but not executable
};

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/', like execvp), its
  // stdout and stderr on pipes whose read ends (non-blocking, close-on-exec)
  // are here to take. nullopt with `failure` set when it cannot be started.
  static std::optional<ChildProcess> start(const std::vector<std::string>& argv, const SignalRelay& relay,
                                           StartFailure& failure);

  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  // The read ends of the program's stdout and stderr: the caller owns and
  // closes what it takes (-1 once taken).
  [[nodiscard]] int take_stdout_fd() noexcept { return std::exchange(out_, -1); }
  [[nodiscard]] int take_stderr_fd() noexcept { return std::exchange(err_, -1); }

  // Collects the exit status if the program has exited; never blocks.
  bool try_reap();
  // Blocks until the program has exited.
  void reap();
  [[nodiscard]] bool exited() const noexcept { return status_.has_value(); }
  // The wait status (exited() must be true).
  [[nodiscard]] int wait_status() const noexcept { return *status_; }

 private:
  ChildProcess(pid_t pid, int out, int err) noexcept : pid_(pid), out_(out), err_(err) {}
  bool reap_with(int flags);

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::optional<int> status_;
};

// The shell's convention: the exit code, or 128 + the signal that killed it.
[[nodiscard]] int exit_code_of(int wait_status) noexcept;

}  // namespace preroll::run
