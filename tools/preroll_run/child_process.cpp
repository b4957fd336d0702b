#include "child_process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace preroll::run {

namespace {

// Shared with the handler. pid_t fits sig_atomic_t (int) on Linux.
volatile sig_atomic_t g_child = 0;        // the running program, 0 when none
volatile sig_atomic_t g_stop_request = 0;  // forwarded signal with no program
volatile sig_atomic_t g_passed_on[NSIG] = {};
int g_wake_fd = -1;

void on_signal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  if (sig != SIGCHLD) {
    const pid_t child = g_child;
    if (child > 0) {
      // The terminal signals the whole foreground group: the program, in our
      // group, has this one already.
      const bool group_got_it = info != nullptr && info->si_code == SI_KERNEL && ::getpgid(child) == ::getpgrp();
      if (!group_got_it) ::kill(child, sig);
      g_passed_on[sig] = 1;
    } else {
      g_stop_request = sig;
    }
  }
  if (g_wake_fd >= 0) {
    const char b = 0;
    [[maybe_unused]] const ssize_t n = ::write(g_wake_fd, &b, 1);  // a full pipe already wakes
  }
  errno = saved_errno;
}

sigset_t forwarded_set() {
  sigset_t s;
  sigemptyset(&s);
  for (const int sig : kForwardedSignals) sigaddset(&s, sig);
  sigaddset(&s, SIGCHLD);
  return s;
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

SignalRelay::SignalRelay() {
  check(::pipe2(wake_, O_CLOEXEC | O_NONBLOCK), "pipe2");
  g_wake_fd = wake_[1];
  check(::sigprocmask(SIG_SETMASK, nullptr, &original_mask_), "sigprocmask");
  sigemptyset(&reset_in_child_);
  // Held until the program's pid is known (ChildProcess::start): a signal
  // that comes before waits pending and is passed on then.
  const sigset_t held = forwarded_set();
  check(::sigprocmask(SIG_BLOCK, &held, nullptr), "sigprocmask");

  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);  // one handler at a time
  for (std::size_t i = 0; i < std::size(kForwardedSignals); ++i) {
    const int sig = kForwardedSignals[i];
    check(::sigaction(sig, nullptr, &saved_[i]), "sigaction");
    // A signal preroll-run was started with ignored (nohup, a background
    // job of a non-interactive shell) stays ignored, by the program too.
    if (saved_[i].sa_handler == SIG_IGN) continue;
    check(::sigaction(sig, &sa, nullptr), "sigaction");
  }
  sa.sa_flags |= SA_NOCLDSTOP;
  check(::sigaction(SIGCHLD, &sa, &saved_chld_), "sigaction");

  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  check(::sigaction(SIGPIPE, &ign, &saved_pipe_), "sigaction");
  if (saved_pipe_.sa_handler != SIG_IGN) sigaddset(&reset_in_child_, SIGPIPE);
  // Handled signals are reset to their default in the child by exec.
}

SignalRelay::~SignalRelay() {
  ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
  for (std::size_t i = 0; i < std::size(kForwardedSignals); ++i) ::sigaction(kForwardedSignals[i], &saved_[i], nullptr);
  ::sigaction(SIGCHLD, &saved_chld_, nullptr);
  ::sigaction(SIGPIPE, &saved_pipe_, nullptr);
  g_wake_fd = -1;
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void SignalRelay::clear_wake() const noexcept {
  char buf[64];
  while (::read(wake_[0], buf, sizeof buf) > 0) {
  }
}

int SignalRelay::stop_request() const noexcept { return g_stop_request; }
bool SignalRelay::passed_on(int sig) const noexcept { return sig > 0 && sig < NSIG && g_passed_on[sig] != 0; }

std::optional<ChildProcess> ChildProcess::start(const std::vector<std::string>& argv, const SignalRelay& relay,
                                                StartFailure& failure) {
  if (argv.empty()) throw std::invalid_argument("no command");
  int out[2], err[2];
  check(::pipe2(out, O_CLOEXEC), "pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    throw std::system_error(e, std::generic_category(), "pipe2");
  }
  // Our ends only: the program's must stay blocking, as a terminal or a
  // file would be.
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // dup2 clears close-on-exec on the copy; every pipe end itself is closed
  // by the exec. fds 1 and 2 are open (main), so the pipes are above them.
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &relay.original_mask());
  posix_spawnattr_setsigdefault(&attr, &relay.reset_in_child());

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // The relay holds the signals until here: the handler may pass them on
  // only once the pid is known (they wait pending, none is lost). With no
  // program, a pending one is a request to stop.
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  if (rc == 0) g_child = pid;
  const sigset_t held = forwarded_set();
  ::sigprocmask(SIG_UNBLOCK, &held, nullptr);

  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    failure.error = rc;
    // The shell's codes: 127 not found, 126 found but cannot be executed.
    failure.exit_code = (rc == ENOENT || rc == ENOTDIR || rc == ENAMETOOLONG || rc == ELOOP) ? 127 : 126;
    return std::nullopt;
  }
  return ChildProcess(pid, out[0], err[0]);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_), out_(o.out_), err_(o.err_), status_(o.status_) {
  o.pid_ = -1;
  o.out_ = o.err_ = -1;
}

ChildProcess::~ChildProcess() {
  if (out_ >= 0) ::close(out_);
  if (err_ >= 0) ::close(err_);
  // A program still running when preroll-run gives up on it (an exception)
  // is left to run; it is reparented like any orphan.
}

bool ChildProcess::reap_with(int flags) {
  if (status_) return true;
  // No signal may be passed on to a pid that is reaped (and could be
  // reused): reap and forget it with the handlers held off.
  const sigset_t held = forwarded_set();
  sigset_t before;
  ::sigprocmask(SIG_BLOCK, &held, &before);
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, flags);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = st;
    g_child = 0;
  }
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  return status_.has_value();
}

bool ChildProcess::try_reap() { return reap_with(WNOHANG); }

void ChildProcess::reap() {
  // Blocking with the handlers held off would hold off forwarding too:
  // wait for SIGCHLD's wake-up instead of in waitpid.
  while (!reap_with(WNOHANG)) {
    const sigset_t chld = [] {
      sigset_t s;
      sigemptyset(&s);
      sigaddset(&s, SIGCHLD);
      return s;
    }();
    sigset_t before;
    ::sigprocmask(SIG_BLOCK, &chld, &before);
    if (!reap_with(WNOHANG)) ::sigsuspend(&before);  // returns after any handled signal
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
  }
}

int exit_code_of(int wait_status) noexcept {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace preroll::run
