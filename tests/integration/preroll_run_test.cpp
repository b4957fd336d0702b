// preroll-run against a real prerolld: the output of an unmodified program
// passes through byte for byte while every line is recorded; its exit
// status passes through; signals reach it; and with a real program driven
// to an error (GNU tar extracting a truncated archive) only the windows
// around the error are kept.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"
#include "prerollctl_runner.hpp"
#include "preroll/atf/reader.hpp"
#include "text_lines.hpp"

using namespace std::chrono_literals;
using preroll::test::ctl_json;
using preroll::test::DaemonFixture;
using preroll::test::lines_of;
using preroll::test::Process;
using preroll::test::read_all;
using preroll::test::Readback;
using preroll::test::wait_for;

namespace {

constexpr int kInfo = 2, kError = 4;  // PREROLL_INFO, PREROLL_ERROR

struct Run {
  int wait_status = -1;
  std::string out, err;
  pid_t pid = -1;
  [[nodiscard]] bool exited_with(int code) const { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code; }
};

// preroll-run ARGS... as a client of `d`, to completion.
Run run_wrapped(DaemonFixture& d, const std::vector<std::string>& args, std::chrono::seconds timeout = 120s) {
  std::vector<std::string> argv = {PREROLL_RUN_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = d.spawn_client(argv);
  const auto st = p->wait(timeout);
  INFO("preroll-run stderr:\n" << p->err().substr(0, 4000));
  REQUIRE(st.has_value());
  return {*st, p->out(), p->err(), p->pid()};
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// Every client that attached has detached: its last windows are decided
// and written, its file closed.
bool all_detached(DaemonFixture& d) {
  const auto s = ctl_json(d, "stats");
  return s["clients_attached_total"].get<std::uint64_t>() > 0 &&
         s["clients_detached_total"] == s["clients_attached_total"];
}

// What preroll-run records of a stream, by the documented rule: one event
// per line, without '\n' and one '\r' before it, lines longer than `max`
// as consecutive events of `max` bytes, a partial last line too.
std::vector<std::string> expected_events(const std::string& bytes, std::size_t max) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < bytes.size()) {
    const auto nl = bytes.find('\n', start);
    std::string line = bytes.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (nl != std::string::npos && !line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) out.emplace_back();
    for (std::size_t i = 0; i < line.size(); i += max) out.push_back(line.substr(i, max));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::vector<std::string> messages_named(const Readback& r, const std::string& name) {
  std::vector<std::string> v;
  for (const auto& w : r.windows)
    for (const auto& e : w.events)
      if (e.name == name) v.push_back(e.message);
  return v;
}

// Bytes that exercise the passthrough: binary with NULs and CRs, a line of
// `long_line` bytes, and no newline at the end.
std::string awkward_bytes(unsigned seed, std::size_t long_line) {
  std::mt19937 rng(seed);
  std::string s = "plain line\nCRLF line\r\n\nERROR a marked line\n";
  for (int i = 0; i < 30000; ++i) {
    const unsigned r = rng() % 50;
    s += r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? '\0' : static_cast<char>(rng() & 0xFF);
  }
  s += '\n';
  for (std::size_t i = 0; i < long_line; ++i) s += static_cast<char>('a' + i % 26);
  s += "\nno newline at the end";
  return s;
}

}  // namespace

TEST_CASE("preroll-run: output passes through byte for byte and every line is recorded", "[preroll-run]") {
  DaemonFixture d({"--marking", "off"});  // keep everything: compare all of it
  const std::string out_bytes = awkward_bytes(1, 150 * 1024);
  const std::string err_bytes = awkward_bytes(2, 120 * 1024);
  write_file(d.dir.path() / "out.bin", out_bytes);
  write_file(d.dir.path() / "err.bin", err_bytes);

  const Run r = run_wrapped(d, {"--", "sh", "-c", "cat \"$1\"; cat \"$2\" >&2; exit 7", "sh",
                                (d.dir.path() / "out.bin").string(), (d.dir.path() / "err.bin").string()});
  CHECK(r.exited_with(7));
  CHECK(r.out.size() == out_bytes.size());
  CHECK(r.out == out_bytes);  // not printed on failure: binary
  CHECK(r.err.size() == err_bytes.size());
  CHECK(r.err == err_bytes);

  REQUIRE(wait_for([&] { return all_detached(d); }, 30s));
  d.stop();
  const auto files = d.files();
  REQUIRE(files.size() == 1);
  // Named after the program, not after preroll-run.
  CHECK(files[0].filename().string().rfind("sh-" + std::to_string(r.pid) + "-", 0) == 0);
  const Readback back = read_all(files);
  for (const auto& st : back.statuses) CHECK(st.reason == preroll::atf::StopReason::clean_end);
  const auto got_out = messages_named(back, "stdout");
  const auto got_err = messages_named(back, "stderr");
  const auto want_out = expected_events(out_bytes, 4096);
  const auto want_err = expected_events(err_bytes, 4096);
  CHECK(got_out.size() == want_out.size());
  CHECK(got_out == want_out);
  CHECK(got_err.size() == want_err.size());
  CHECK(got_err == want_err);
  // preroll-run's own events: what ran, and how it ended.
  const auto own = messages_named(back, "preroll-run");
  REQUIRE(own.size() == 2);
  CHECK(own[0].rfind("run: sh -c ", 0) == 0);
  CHECK(own[1] == "exited with status 7");
  // The level guess: the marked line is an error, the plain ones info.
  for (const auto& w : back.windows)
    for (const auto& e : w.events) {
      if (e.message == "ERROR a marked line") CHECK(e.level == kError);
      if (e.message == "plain line") CHECK(e.level == kInfo);
    }
}

TEST_CASE("preroll-run: exit status, death by signal and exec failures like a shell", "[preroll-run]") {
  DaemonFixture d;
  CHECK(run_wrapped(d, {"--", "sh", "-c", "exit 7"}).exited_with(7));
  CHECK(run_wrapped(d, {"true"}).exited_with(0));
  // Killed by a signal: 128 + N as an exit status, not re-raised.
  const Run killed = run_wrapped(d, {"--", "sh", "-c", "kill -TERM $$"});
  CHECK(killed.exited_with(128 + SIGTERM));
  const Run segv = run_wrapped(d, {"--", "sh", "-c", "kill -SEGV $$"});
  CHECK(segv.exited_with(128 + SIGSEGV));

  const Run missing = run_wrapped(d, {"--", "/nonexistent/preroll-run-test"});
  CHECK(missing.exited_with(127));
  CHECK_THAT(missing.err, Catch::Contains("cannot run '/nonexistent/preroll-run-test': No such file or directory"));
  const Run not_in_path = run_wrapped(d, {"preroll-run-test-no-such-command"});
  CHECK(not_in_path.exited_with(127));
  const auto not_executable = d.dir.path() / "not-executable.sh";
  write_file(not_executable, "#!/bin/sh\necho hello\n");
  ::chmod(not_executable.c_str(), 0644);
  const Run denied = run_wrapped(d, {"--", not_executable.string()});
  CHECK(denied.exited_with(126));
  CHECK_THAT(denied.err, Catch::Contains("Permission denied"));

  const Run usage = run_wrapped(d, {});
  CHECK(usage.exited_with(2));
  CHECK_THAT(usage.err, Catch::Contains("no COMMAND"));
  CHECK(run_wrapped(d, {"--stdout-level", "loud", "--", "true"}).exited_with(2));
  const Run help = run_wrapped(d, {"--help"});
  CHECK(help.exited_with(0));
  CHECK_THAT(help.out, Catch::Contains("Usage: preroll-run"));
  d.stop();
}

TEST_CASE("preroll-run: tar driven to an error keeps only the windows around it", "[preroll-run]") {
  // A pattern for tar's message (it has no level marker) and the default
  // level trigger (tar's "Error is not recoverable" is guessed an error).
  DaemonFixture d({"--trigger", "Unexpected EOF"});
  const auto dir = d.dir.path();
  std::filesystem::create_directories(dir / "src" / "payload");
  const int files = 3000;
  for (int i = 0; i < files; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "entry-with-a-longish-name-%05d.txt", i);
    write_file(dir / "src" / "payload" / name, "content " + std::to_string(i) + "\n");
  }
  const auto make = preroll::test::run_program(dir, "/bin/tar", {"-cf", (dir / "full.tar").string(), "-C",
                                                                 (dir / "src").string(), "."});
  REQUIRE(make.status == 0);
  // Cut in the middle, inside a 10 KiB tar record (a cut at a record boundary
  // reads as a clean end of archive).
  const std::string full = preroll::test::read_file(dir / "full.tar");
  write_file(dir / "truncated.tar", full.substr(0, full.size() / 2 / 10240 * 10240 + 5000));
  std::filesystem::create_directories(dir / "outdir");

  // Small rings: tar's listing (one stdout line per file) fills many.
  d.client_env = {"PREROLL_RING_SIZE=4096"};
  const Run r = run_wrapped(d, {"--", "tar", "-xvf", (dir / "truncated.tar").string(), "-C", (dir / "outdir").string()});
  INFO("tar stderr:\n" << r.err);
  CHECK(r.exited_with(2));
  CHECK_THAT(r.err, Catch::Contains("tar: Unexpected EOF in archive"));
  CHECK_THAT(r.err, Catch::Contains("tar: Error is not recoverable: exiting now"));
  const auto listed = lines_of(r.out);
  REQUIRE(listed.size() > static_cast<std::size_t>(files / 3));

  REQUIRE(wait_for([&] { return all_detached(d); }, 30s));
  const auto stats = ctl_json(d, "stats");
  INFO("stats: " << stats.dump());
  const auto seen = stats["windows_seen"].get<std::uint64_t>();
  const auto persisted = stats["windows_persisted"].get<std::uint64_t>();
  const auto discarded = stats["windows_discarded"].get<std::uint64_t>();
  CHECK(stats["events_lost"]["overwritten"] == 0);
  // Many windows went by; the error's, one of pre-roll, and possibly the
  // error's continuation were kept; everything else was discarded.
  CHECK(seen >= 20);
  CHECK(persisted >= 2);
  CHECK(persisted <= 4);
  CHECK(discarded >= seen - persisted - 1);
  d.stop();

  const auto atf_files = d.files();
  REQUIRE(atf_files.size() == 1);
  CHECK(atf_files[0].filename().string().rfind("tar-" + std::to_string(r.pid) + "-", 0) == 0);
  {
    auto reader = preroll::atf::Reader::open(atf_files[0]);
    CHECK(reader->header().process_name == "tar");
  }
  const Readback back = read_all(atf_files);
  CHECK(back.windows.size() == persisted);

  // The error lines, marked: by the pattern and by the guessed level.
  bool eof_marked = false, fatal_marked = false;
  for (const auto& w : back.windows)
    for (const auto& e : w.events) {
      const bool marked = (e.flags & preroll::atf::event_flags::policy_marked) != 0;
      if (e.name == "stderr" && e.message == "tar: Unexpected EOF in archive" && marked && e.pattern == 1)
        eof_marked = true;
      if (e.name == "stderr" && e.message == "tar: Error is not recoverable: exiting now" && marked &&
          e.level == kError)
        fatal_marked = true;
    }
  CHECK(eof_marked);
  CHECK(fatal_marked);

  // The stdout lines kept are the ones just before the error: a run of the
  // listing's last lines, in order, and far from all of it.
  const auto kept = messages_named(back, "stdout");
  INFO("kept " << kept.size() << " of " << listed.size() << " listed lines");
  REQUIRE(kept.size() >= 40);  // at least a window's worth of lead-up
  CHECK(kept.size() <= listed.size() / 4);
  const std::vector<std::string> tail(listed.end() - static_cast<std::ptrdiff_t>(kept.size()), listed.end());
  CHECK(kept == tail);
  CHECK(messages_named(back, "preroll-run").back() == "exited with status 2");
}

TEST_CASE("preroll-run: signals are passed on to the program", "[preroll-run]") {
  DaemonFixture d;
  SECTION("SIGTERM ends the program, preroll-run exits 143 at once") {
    auto p = d.spawn_client({PREROLL_RUN_PATH, "--", "sh", "-c", "echo $$; exec sleep 30"});
    // The program runs (its first line came through): preroll-run's
    // handlers are in place since before it started.
    REQUIRE(wait_for([&] { return p->out().find('\n') != std::string::npos; }, 20s));
    const pid_t child = std::stoi(p->out());
    const auto t0 = std::chrono::steady_clock::now();
    p->signal(SIGTERM);
    const auto st = p->wait(10s);
    REQUIRE(st.has_value());
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(WIFEXITED(*st));  // exited, not killed by the signal itself
    CHECK(WEXITSTATUS(*st) == 128 + SIGTERM);
    CHECK((::kill(child, 0) == -1 && errno == ESRCH));  // reaped, not left behind
  }
  SECTION("a signal the program handles: it decides what happens") {
    auto p = d.spawn_client({PREROLL_RUN_PATH, "--", "sh", "-c",
                             "trap 'echo got USR1; exit 3' USR1; echo ready; while :; do sleep 0.05; done"});
    REQUIRE(wait_for([&] { return p->out().find("ready\n") != std::string::npos; }, 20s));
    p->signal(SIGUSR1);
    const auto st = p->wait(10s);
    REQUIRE(st.has_value());
    CHECK(WIFEXITED(*st));
    CHECK(WEXITSTATUS(*st) == 3);
    CHECK(p->out() == "ready\ngot USR1\n");
  }
  d.stop();
}

TEST_CASE("preroll-run: processes left behind holding the output are waited for, within limits", "[preroll-run]") {
  DaemonFixture d;
  SECTION("--drain-timeout bounds the wait") {
    auto p = d.spawn_client({PREROLL_RUN_PATH, "--drain-timeout", "0.3", "--", "sh", "-c", "sleep 30 & echo $!"});
    const auto st = p->wait(15s);
    REQUIRE(st.has_value());
    CHECK(preroll::test::exit_code(*st) == 0);
    ::kill(std::stoi(p->out()), SIGKILL);
  }
  SECTION("without it, a signal after the program exited ends the wait") {
    auto p = d.spawn_client({PREROLL_RUN_PATH, "--", "sh", "-c", "sleep 30 & echo $! $$"});
    REQUIRE(wait_for([&] { return p->out().find('\n') != std::string::npos; }, 20s));
    std::istringstream ids(p->out());
    pid_t sleeper = 0, shell = 0;
    ids >> sleeper >> shell;
    // The shell exited and was reaped; its background sleep holds the pipes.
    REQUIRE(wait_for([&] { return ::kill(shell, 0) == -1 && errno == ESRCH; }, 20s));
    CHECK(p->running());
    p->signal(SIGTERM);
    const auto st = p->wait(10s);
    REQUIRE(st.has_value());
    CHECK(WIFEXITED(*st));
    CHECK(WEXITSTATUS(*st) == 0);  // the shell's status
    ::kill(sleeper, SIGKILL);
  }
  d.stop();
}

TEST_CASE("preroll-run: with its stdout gone it keeps reading and recording the program's output", "[preroll-run]") {
  DaemonFixture d({"--marking", "off"});
  // head exits after one line; preroll-run's writes then fail with EPIPE.
  const std::string script = std::string("{ '") + PREROLL_RUN_PATH + "' -- seq 1 50000; echo \"rc=$?\" >&2; } | head -n 1";
  auto p = d.spawn_client({"/bin/sh", "-c", script});
  const auto st = p->wait(60s);
  REQUIRE(st.has_value());
  INFO("stderr: " << p->err());
  CHECK(p->out() == "1\n");
  CHECK_THAT(p->err(), Catch::Contains("rc=0"));  // seq ran to its end, preroll-run passed its status
  REQUIRE(wait_for([&] { return all_detached(d); }, 30s));
  d.stop();
  const Readback back = read_all(d.files());
  const auto lines = messages_named(back, "stdout");
  REQUIRE(lines.size() == 50000);
  CHECK(lines.front() == "1");
  CHECK(lines.back() == "50000");
  bool noted = false;
  for (const auto& m : messages_named(back, "preroll-run"))
    if (m.find("stdout passthrough stopped: Broken pipe") != std::string::npos) noted = true;
  CHECK(noted);
}

TEST_CASE("preroll-run: the program's environment and descriptors are its own", "[preroll-run]") {
  DaemonFixture d;
  const std::string script = "echo \"[${PREROLL_PROCESS_NAME-unset}]\"; ls -l /proc/$$/fd";
  const Run plain = run_wrapped(d, {"--", "sh", "-c", script});
  CHECK(plain.exited_with(0));
  // preroll-run names its capture after the program for itself only.
  CHECK_THAT(plain.out, Catch::StartsWith("[unset]\n"));
  // Neither the capture segment nor the daemon socket leaks into it.
  CHECK_THAT(plain.out, !Catch::Contains("memfd:"));
  CHECK_THAT(plain.out, !Catch::Contains("socket:"));

  // A name the user set stays in the program's environment, and names the capture.
  d.client_env = {"PREROLL_PROCESS_NAME=nightly-backup"};
  const Run named = run_wrapped(d, {"--", "sh", "-c", script + "; echo ERROR keep this file"});
  CHECK_THAT(named.out, Catch::StartsWith("[nightly-backup]\n"));
  d.client_env = {};
  const Run opt = run_wrapped(d, {"--process-name", "restore", "--", "sh", "-c", "echo ERROR now"});
  CHECK(opt.out == "ERROR now\n");
  REQUIRE(wait_for([&] { return all_detached(d); }, 30s));
  d.stop();
  bool saw_named = false, saw_option = false;
  for (const auto& f : d.files()) {
    const auto n = f.filename().string();
    if (n.rfind("nightly-backup-" + std::to_string(named.pid) + "-", 0) == 0) saw_named = true;
    if (n.rfind("restore-" + std::to_string(opt.pid) + "-", 0) == 0) saw_option = true;
  }
  // (Each run printed an ERROR line: marked, so its file exists.)
  CHECK(saw_named);
  CHECK(saw_option);
}
