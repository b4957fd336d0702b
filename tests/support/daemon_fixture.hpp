// Integration-test fixture: a real prerolld on a temporary socket and output
// directory, clients started against it, and the ATF files read back.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "preroll/atf/reader.hpp"
#include "process.hpp"

namespace preroll::test {

using namespace std::chrono_literals;

struct Readback {
  std::vector<atf::ReadWindow> windows;
  std::uint64_t message_bytes = 0;
  std::uint64_t events = 0;
  std::vector<atf::ReadStatus> statuses;

  [[nodiscard]] std::size_t count_messages_containing(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& w : windows)
      for (const auto& e : w.events)
        if (e.message.find(text) != std::string::npos) ++n;
    return n;
  }
};

inline Readback read_all(const std::vector<std::filesystem::path>& files) {
  Readback r;
  for (const auto& f : files) {
    auto reader = atf::Reader::open(f);
    atf::ReadWindow w;
    while (reader->next(w)) {
      for (const auto& e : w.events) r.message_bytes += e.message.size();
      r.events += w.events.size();
      r.windows.push_back(w);
    }
    r.statuses.push_back(reader->status());
  }
  return r;
}

// The pid in an ATF file's header; nullopt while the daemon has created the
// file but not yet written its header (a reader sees 0 bytes then).
inline std::optional<std::uint32_t> file_pid(const std::filesystem::path& f) {
  try {
    return atf::Reader::open(f)->header().pid;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class DaemonFixture {
 public:
  explicit DaemonFixture(std::vector<std::string> args = {}) : args_(std::move(args)) { start(); }
  // Lets the test prepare `out` (e.g. mount a file system there) first.
  struct Deferred {};
  DaemonFixture(std::vector<std::string> args, Deferred) : args_(std::move(args)) {}

  void start() {
    std::vector<std::string> argv = {PREROLLD_PATH, "--socket", socket.string(), "--output-dir", out.string(),
                                     "--log-level", "debug"};
    argv.insert(argv.end(), args_.begin(), args_.end());
    ++starts_;
    const auto log = dir.path() / ("prerolld." + std::to_string(starts_) + ".err");
    proc_ = std::make_unique<Process>(argv, daemon_env, dir.path() / "prerolld.out", log);
    // Up when it accepts a connection on the socket (a stale socket file
    // from a killed daemon exists before the new one listens).
    const bool up = wait_for([&] { return accepts() || !proc_->running(); }, 10s);
    INFO("prerolld stderr:\n" << proc_->err());
    REQUIRE(up);
    REQUIRE(proc_->running());
  }

  // Graceful stop: SIGTERM, exit status 0 after draining every client.
  void stop() {
    proc_->signal(SIGTERM);
    const auto st = proc_->wait(30s);
    INFO("prerolld stderr:\n" << proc_->err());
    REQUIRE(st.has_value());
    CHECK(exit_code(*st) == 0);
  }

  void kill9() {
    proc_->signal(SIGKILL);
    REQUIRE(proc_->wait(10s).has_value());
  }

  [[nodiscard]] std::string log() const { return proc_->err(); }
  void signal(int sig) const { proc_->signal(sig); }
  [[nodiscard]] pid_t pid() const { return proc_->pid(); }

  // Runs a client to completion with PREROLL_SOCKET set; returns its last
  // stdout line parsed as JSON.
  nlohmann::json run_client(const std::vector<std::string>& argv, int expected_exit = 0,
                            std::chrono::seconds timeout = 120s) {
    auto p = spawn_client(argv);
    const auto st = p->wait(timeout);
    INFO("client stderr:\n" << p->err() << "\nclient stdout:\n" << p->out());
    REQUIRE(st.has_value());
    REQUIRE(exit_code(*st) == expected_exit);
    return last_json_line(p->out());
  }

  // Clients get the maximum ring pool (64 rings per lane): a test's whole
  // run fits in it, so a daemon starved of CPU by parallel tests delays
  // windows instead of making the client overwrite them. Tests that want
  // overload say so with `client_env`.
  std::unique_ptr<Process> spawn_client(const std::vector<std::string>& argv) {
    ++clients_;
    std::vector<std::string> env = {"PREROLL_SOCKET=" + socket.string(), "PREROLL_RINGS_PER_LANE=64"};
    env.insert(env.end(), client_env.begin(), client_env.end());
    return std::make_unique<Process>(argv, env,
                                     dir.path() / ("client." + std::to_string(clients_) + ".out"),
                                     dir.path() / ("client." + std::to_string(clients_) + ".err"));
  }

  static nlohmann::json last_json_line(const std::string& out) {
    const auto end = out.find_last_not_of('\n');
    REQUIRE(end != std::string::npos);
    const auto start = out.rfind('\n', end);
    return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1)));
  }

  [[nodiscard]] std::vector<std::filesystem::path> files() const {
    std::vector<std::filesystem::path> v;
    if (!std::filesystem::exists(out)) return v;
    for (const auto& e : std::filesystem::directory_iterator(out))
      if (e.path().extension() == ".atf") v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
  }

  TempDir dir;
  std::vector<std::string> client_env;  // added to every client's environment (later entries win)
  std::vector<std::string> daemon_env;  // added to prerolld's environment (set before start())
  std::filesystem::path socket = dir.path() / "prerolld.sock";
  std::filesystem::path out = dir.path() / "out";

 private:
  [[nodiscard]] bool accepts() const {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::vector<std::string> args_;
  std::unique_ptr<Process> proc_;
  int starts_ = 0;
  int clients_ = 0;
};

}  // namespace preroll::test
