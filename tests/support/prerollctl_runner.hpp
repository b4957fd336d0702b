// Runs the real prerollctl against a test daemon and returns what it said.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon_fixture.hpp"

namespace preroll::test {

struct CtlResult {
  int status = -1;
  std::string out, err;
};

// Runs `program args...` to completion (30 s at most), output kept in `dir`.
inline CtlResult run_program(const std::filesystem::path& dir, const std::string& program,
                             const std::vector<std::string>& args) {
  static int n = 0;
  ++n;
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, {}, dir / ("ctl." + std::to_string(n) + ".out"), dir / ("ctl." + std::to_string(n) + ".err"));
  const auto st = p.wait(std::chrono::seconds(30));
  REQUIRE(st.has_value());
  return {exit_code(*st), p.out(), p.err()};
}

inline CtlResult prerollctl(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  return run_program(dir, PREROLLCTL_PATH, args);
}

// A counter of `prerollctl --json stats`.
inline std::uint64_t u64(const nlohmann::json& j, const char* key) { return j.at(key).get<std::uint64_t>(); }

// `prerollctl --json COMMAND`, which must succeed.
inline nlohmann::json ctl_json(DaemonFixture& d, const std::string& command) {
  const auto r = prerollctl(d.dir.path(), {"--socket", d.socket.string(), "--json", command});
  INFO("prerollctl " << command << " stderr: " << r.err << "\nstdout: " << r.out);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["ok"] == true);
  return j;
}

// Every client that attached has detached, its last windows decided and
// written and its file closed (false until a first client attached).
inline bool all_clients_detached(DaemonFixture& d) {
  const auto s = ctl_json(d, "stats");
  return s["clients_attached_total"].get<std::uint64_t>() > 0 &&
         s["clients_detached_total"] == s["clients_attached_total"];
}

}  // namespace preroll::test
