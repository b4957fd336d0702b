// The marking policy end to end: regex triggers from a config file, reload
// with SIGHUP (a bad configuration keeps the running policy), and
// --check-config.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "daemon_fixture.hpp"

using namespace std::chrono_literals;
using preroll::test::DaemonFixture;
using preroll::test::Process;
using preroll::test::read_all;
using preroll::test::wait_for;

namespace {
std::size_t count_in_log(const std::string& log, const std::string& text) {
  std::size_t n = 0;
  for (auto pos = log.find(text); pos != std::string::npos; pos = log.find(text, pos + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("SIGHUP reloads the policy from the config file, a bad file keeps the running policy") {
  preroll::test::TempDir cfgdir;
  const auto conf = cfgdir.path() / "prerolld.conf";
  { std::ofstream(conf) << "trigger = ALPHA\ntrigger-level = none\npre-roll = 0\npost-roll = 0\n"; }
  DaemonFixture d({"--config", conf.string()});
  const std::vector<std::string> gen = {PREROLL_GEN_PATH, "--events", "20000", "--mark-every", "5000",
                                        "--mark-text", "BEEETA", "--rate", "200000"};
  d.run_client(gen);
  // The first policy does not mark BEEETA: nothing kept.
  REQUIRE(wait_for([&] { return d.log().find("detached") != std::string::npos; }, 20s));
  CHECK(d.files().empty());

  { std::ofstream(conf) << "trigger = re:BE+TA\ntrigger-level = none\npre-roll = 0\npost-roll = 0\n"; }
  d.signal(SIGHUP);
  REQUIRE(wait_for([&] { return count_in_log(d.log(), "reload: new policy in force") == 1; }, 20s));
  d.run_client(gen);
  REQUIRE(wait_for([&] { return count_in_log(d.log(), "detached") == 2; }, 20s));

  { std::ofstream(conf) << "trigger = re:BE+TA\nmarking = sometimes\n"; }
  d.signal(SIGHUP);
  REQUIRE(wait_for([&] { return d.log().find("configuration rejected") != std::string::npos; }, 20s));
  CHECK(d.log().find("--marking") != std::string::npos);
  d.run_client(gen);  // still marked by the regex policy
  d.stop();
  const auto r = read_all(d.files());
  CHECK(r.count_messages_containing("BEEETA") == 8);  // 4 marks per run, two runs kept
  for (const auto& w : r.windows) {
    REQUIRE(w.meta.patterns.size() == 1);
    CHECK(w.meta.patterns[0].pattern_id == 0);
  }
}

TEST_CASE("check-config exits 0 for a good configuration and 1 with every problem listed") {
  preroll::test::TempDir dir;
  const auto conf = dir.path() / "c.conf";
  { std::ofstream(conf) << "trigger = re:ok+\ntrigger = re:bad(\n"; }
  Process ok({PREROLLD_PATH, "--config", conf.string(), "--check-config"}, {}, dir.path() / "o1", dir.path() / "e1");
  auto st = ok.wait(20s);
  REQUIRE(st.has_value());
  CHECK(preroll::test::exit_code(*st) == 0);
  CHECK(ok.err().find("bad(") != std::string::npos);  // the fallback warning
  Process strict({PREROLLD_PATH, "--config", conf.string(), "--check-config", "--strict-patterns"}, {},
                 dir.path() / "o2", dir.path() / "e2");
  st = strict.wait(20s);
  REQUIRE(st.has_value());
  CHECK(preroll::test::exit_code(*st) == 1);
  CHECK(strict.err().find("bad(") != std::string::npos);
  Process bad({PREROLLD_PATH, "--trigger-level", "loud", "--marking", "x", "--check-config"}, {}, dir.path() / "o3",
              dir.path() / "e3");
  st = bad.wait(20s);
  REQUIRE(st.has_value());
  CHECK(preroll::test::exit_code(*st) == 1);
  CHECK(bad.err().find("--trigger-level") != std::string::npos);
  CHECK(bad.err().find("--marking") != std::string::npos);
}

TEST_CASE("the example config file shipped in systemd/ is valid") {
  preroll::test::TempDir dir;
  Process p({PREROLLD_PATH, "--config", PREROLL_SOURCE_DIR "/systemd/prerolld.conf.example", "--check-config"}, {},
            dir.path() / "o", dir.path() / "e");
  const auto st = p.wait(20s);
  REQUIRE(st.has_value());
  INFO(p.err());
  CHECK(preroll::test::exit_code(*st) == 0);
}
