// MemoryDenyWriteExecute=yes (systemd/prerolld.service) forbids the
// writable+executable memory PCRE2's JIT needs. This test puts a fresh
// process (this binary, exec'd) under the same rule systemd applies (a
// seccomp filter: mmap with PROT_WRITE|PROT_EXEC and mprotect/pkey_mprotect
// adding PROT_EXEC fail with EPERM), checks that the JIT is indeed refused
// there, and that the marking engine then gives exactly the answers it
// gives with the JIT.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "pattern_matcher.hpp"
#include "process.hpp"
#include "systemd/jit_probe.hpp"

using preroll::daemon::EventText;
using preroll::daemon::MatcherLimits;
using preroll::daemon::PatternHit;
using preroll::daemon::PatternKind;
using preroll::daemon::PatternMatcher;
using preroll::daemon::PatternSpec;
using preroll::test::Process;
using preroll::test::TempDir;

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t kAuditArch = 0;  // the test is skipped
#endif
#ifdef __NR_pkey_mprotect
constexpr std::uint32_t kNrPkeyMprotect = __NR_pkey_mprotect;
#else
constexpr std::uint32_t kNrPkeyMprotect = 0xffffffffu;
#endif

// Low 32 bits of the third argument (prot) on a little-endian machine.
constexpr std::uint32_t kProtOffset = offsetof(seccomp_data, args) + 2 * sizeof(std::uint64_t);

// systemd's MemoryDenyWriteExecute filter (src/shared/seccomp-util.c), in BPF.
bool deny_write_execute() {
  constexpr std::uint8_t allow = 12, deny = 13;
  const std::uint32_t wx = PROT_WRITE | PROT_EXEC;
  sock_filter code[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 0, allow - 2),
      /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 3),
      /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kProtOffset),
      /* 5 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, wx),
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, wx, deny - 7, allow - 7),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 1, 0),
      /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kNrPkeyMprotect, 0, allow - 9),
      /* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kProtOffset),
      /* 10 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_EXEC),
      /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_EXEC, deny - 12, allow - 12),
      /* 12 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      /* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

PatternSpec regex_spec(std::string text, bool ignore_case = false) {
  return {std::move(text), PatternKind::regex, ignore_case};
}
PatternSpec literal_spec(std::string text, bool ignore_case = false) {
  return {std::move(text), PatternKind::literal, ignore_case};
}

const std::vector<PatternSpec> kSpecs = {
    regex_spec("timeout after [0-9]+ ?ms"),    regex_spec("conn(ection)? reset", true),
    regex_spec("^GET /api/\\w+ [45]\\d\\d"),   regex_spec("(a|b)+c{2,}d"),
    regex_spec("x.*y.*z"),                     literal_spec("panic"),
    literal_spec("Deadlock", true),            regex_spec("\\bslow query\\b.*\\d{3,}"),
    regex_spec("(?i)disk (full|quota)"),
};

std::vector<std::string> corpus() {
  std::vector<std::string> v = {"timeout after 250ms", "timeout after 3 ms", "timeout after ms",
                                "Connection RESET by peer",
                                "conn reset", "GET /api/items 404 3ms", "GET /api/items 200", "xx GET /api/x 500",
                                "ababccd", "abcd", "x then y then z", "z y x", "kernel panic", "DEADLOCK found",
                                "a slow query took 1200 ms", "slow queryish 999", "Disk Quota exceeded", "", "ok"};
  // Longer subjects, every pattern somewhere among them.
  for (int i = 0; i < 200; ++i) {
    std::string s = "event " + std::to_string(i) + " ";
    s += (i % 7 == 0) ? "timeout after " + std::to_string(i) + "ms " : "fine ";
    s += (i % 11 == 0) ? "bbbcccd" : "bcd";
    s += std::string(static_cast<std::size_t>(i % 50), 'x');
    if (i % 13 == 0) s += " y z";
    v.push_back(std::move(s));
  }
  return v;
}

std::vector<PatternHit> hits_of(bool hyperscan, const std::vector<std::string>& messages) {
  MatcherLimits limits;
  limits.use_hyperscan = hyperscan;
  const auto m = PatternMatcher::build(kSpecs, limits);
  const auto scratch = m->make_scratch();
  std::vector<EventText> events;
  for (const auto& s : messages) events.push_back({"component", s});
  std::vector<PatternHit> hits;
  m->match_events(events, *scratch, hits);
  return hits;
}

std::string to_text(const std::vector<PatternHit>& hits) {
  std::string t;
  for (const auto& h : hits) t += std::to_string(h.event_index) + " " + std::to_string(h.pattern_id) + "\n";
  return t;
}

}  // namespace

// Runs in a fresh process (exec'd by the test below, so no JIT memory is
// inherited: sljit caches its executable chunks): installs the filter,
// checks it bites and that the JIT is refused, writes the hits of both
// engines to $PREROLL_NO_JIT_OUT.
TEST_CASE("no-JIT child: marking under systemd's MemoryDenyWriteExecute rule", "[.][no-jit-child]") {
  const char* out = std::getenv("PREROLL_NO_JIT_OUT");
  REQUIRE(out != nullptr);
  REQUIRE(deny_write_execute());
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p == MAP_FAILED);
  REQUIRE(errno == EPERM);
  REQUIRE_FALSE(preroll::daemon::systemd::pcre2_jit_usable());
  const auto messages = corpus();
  std::ofstream f(out);
  f << to_text(hits_of(false, messages)) << "--\n" << to_text(hits_of(true, messages));
  REQUIRE(f.good());
}

TEST_CASE("Without writable+executable memory PCRE2 loses its JIT and the marking engine gives the same answers") {
  if (kAuditArch == 0 || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
    WARN("no seccomp filter for this architecture; skipped");
    return;
  }
  const TempDir dir;
  const auto out = dir.path() / "hits.txt";
  Process child({"/proc/self/exe", "[no-jit-child]"}, {"PREROLL_NO_JIT_OUT=" + out.string()},
                dir.path() / "child.out", dir.path() / "child.err");
  const auto st = child.wait(std::chrono::seconds(60));
  INFO("child output:\n" << child.out() << child.err());
  REQUIRE(st.has_value());
  REQUIRE(preroll::test::exit_code(*st) == 0);

  // The same corpus here, JIT allowed.
  if (!preroll::daemon::systemd::pcre2_jit_usable()) WARN("PCRE2 has no JIT here even without the filter");
  const auto messages = corpus();
  const auto with_jit = hits_of(false, messages);
  REQUIRE(with_jit.size() > 20);
  CHECK(hits_of(true, messages) == with_jit);
  CHECK(preroll::test::read_file(out) == to_text(with_jit) + "--\n" + to_text(with_jit));
}
