// System calls that fail on demand, for the tests of error paths the kernel
// never takes on a healthy machine (ftruncate refused, fdatasync or close
// failing with EIO). The failures are a seccomp filter, which cannot be
// removed once installed, so they happen in a forked child:
//
//   const std::string out = preroll::test::in_child([] {
//     ... set up ...
//     preroll::test::fail_syscalls({{SYS_fdatasync, EIO}});
//     ... exercise, return what happened as text ...
//   });
//   CHECK(out == "...");
//
// The child must not use Catch's assertions; it reports through its return
// value. It ends with exit(), not _exit(), so that a coverage build writes
// what the child ran (gcov's exit handler); the parent's stack objects are
// not unwound in the child (a TempDir stays), and stdio is flushed before
// the fork so nothing is printed twice. A soft file size limit the child set
// (RLIMIT_FSIZE) is lifted before it exits.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace preroll::test {

struct SyscallFault {
  long nr = 0;                          // SYS_...
  int error = EIO;                      // errno it fails with
  std::optional<std::uint32_t> arg0{};  // only when the first argument (its low 32 bits) is this
  std::optional<std::uint32_t> arg1{};  // and the second
};

// Makes the listed system calls of this process fail from now on. True when
// the filter is in place.
inline bool fail_syscalls(std::initializer_list<SyscallFault> faults) {
#if defined(__x86_64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_AARCH64;
#else
  return false;
#endif
  // Little-endian: an argument's low half comes first.
  const auto arg_low = [](int i) { return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * i); };
  std::vector<sock_filter> code;
  code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  const std::size_t arch_jump = code.size();
  code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 0));  // jf patched: to ALLOW
  for (const SyscallFault& f : faults) {
    const auto ret = static_cast<std::uint32_t>(SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(f.error) & SECCOMP_RET_DATA));
    // Each test that fails jumps past this fault's RET to the next fault.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> tests = {
        {static_cast<std::uint32_t>(offsetof(seccomp_data, nr)), static_cast<std::uint32_t>(f.nr)}};
    if (f.arg0) tests.emplace_back(arg_low(0), *f.arg0);
    if (f.arg1) tests.emplace_back(arg_low(1), *f.arg1);
    for (std::size_t i = 0; i < tests.size(); ++i) {
      const auto skip = static_cast<std::uint8_t>(2 * (tests.size() - i - 1) + 1);  // the later tests and the RET
      code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, tests[i].first));
      code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, tests[i].second, 0, skip));
    }
    code.push_back(BPF_STMT(BPF_RET | BPF_K, ret));
  }
  code.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  code[arch_jump].jf = static_cast<std::uint8_t>(code.size() - 1 - (arch_jump + 1));
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// Runs `body` in a forked child and returns its result, or a line saying how
// the child ended when it did not return one ("child: exception ...",
// "child: signal N").
inline std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = std::string("child: exception ") + e.what();
    } catch (...) {
      out = "child: unknown exception";
    }
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    // A test may have lowered the file size limit: gcov's files must fit.
    rlimit fsize{};
    if (::getrlimit(RLIMIT_FSIZE, &fsize) == 0) {
      fsize.rlim_cur = fsize.rlim_max;
      (void)::setrlimit(RLIMIT_FSIZE, &fsize);
    }
    std::exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) out += "child: signal " + std::to_string(WTERMSIG(status));
  return out;
}

}  // namespace preroll::test
