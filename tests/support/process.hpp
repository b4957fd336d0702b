// Test support: start real processes (prerolld, preroll-gen), wait for them
// or for conditions with a deadline, and a temporary directory. No sleeps
// standing in for synchronisation: every wait polls a condition and fails
// with a message when its deadline passes.
#pragma once

#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace preroll::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "preroll-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (std::getenv("PREROLL_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Polls `cond` every 10 ms until it holds or `timeout` passes.
inline bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                     std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(poll);
  }
  return cond();
}

// wait_for polling every 50 ms, for conditions that run a program (prerollctl)
// or read /proc: not every 10 ms.
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  return wait_for(cond, timeout, std::chrono::milliseconds(50));
}

// Mappings in process `pid` of memfds whose name starts with `name` (a
// mapped memfd shows as "/memfd:NAME (deleted)" in /proc/PID/maps).
inline std::size_t memfd_mappings(pid_t pid, const std::string& name) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::size_t n = 0;
  for (std::string line; std::getline(maps, line);)
    if (line.find("memfd:" + name) != std::string::npos) ++n;
  return n;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class Process {
 public:
  // Starts `argv` with the current environment plus `extra_env`
  // ("NAME=value"); stdout and stderr go to the given files. `pass_fds`
  // become the child's descriptors 3, 4, ... in order (socket activation:
  // systemd passes its sockets there).
  Process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
          const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file,
          const std::vector<int>& pass_fds = {})
      : stdout_(stdout_file), stderr_(stderr_file) {
    // A variable in `extra_env` replaces the inherited one: with both in the
    // environment, getenv() would find the inherited one first.
    const auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string inherited = *e;
      bool replaced = false;
      for (const auto& x : extra_env) replaced = replaced || name_of(x) == name_of(inherited);
      if (!replaced) env_strings.push_back(inherited);
    }
    for (const auto& e : extra_env) env_strings.push_back(e);
    std::vector<char*> args, env;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // Copies above any target first, so no dup2 overwrites a source still to
    // be copied; dup2 clears close-on-exec on the target.
    std::vector<int> copies;
    for (std::size_t i = 0; i < pass_fds.size(); ++i) {
      copies.push_back(::fcntl(pass_fds[i], F_DUPFD_CLOEXEC, 64));
      if (copies.back() < 0) throw std::runtime_error("cannot copy descriptor " + std::to_string(pass_fds[i]));
      posix_spawn_file_actions_adddup2(&fa, copies.back(), 3 + static_cast<int>(i));
    }
    const int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&fa);
    for (const int c : copies) ::close(c);
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(rc));
  }
  ~Process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }

  // Waits for exit; returns the wait status, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    wait_for(
        [&] {
          int st = 0;
          const pid_t r = ::waitpid(pid_, &st, WNOHANG);
          if (r == pid_) status_ = st;
          return status_.has_value();
        },
        timeout);
    return status_;
  }
  [[nodiscard]] bool running() {
    if (status_) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) status_ = st;
    return !status_;
  }
  [[nodiscard]] std::string out() const { return read_file(stdout_); }
  [[nodiscard]] std::string err() const { return read_file(stderr_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path stdout_, stderr_;
};

inline int exit_code(int wait_status) { return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status); }

}  // namespace preroll::test
