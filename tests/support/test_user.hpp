// A Unix user created for one test and deleted after it: "another user" in
// the permission tests is a uid no other process on the machine runs as (not
// `nobody`, which services share), so anything it reaches it reached through
// the permission under test. Needs root (useradd/userdel).
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "prerollctl_runner.hpp"

namespace preroll::test {

class TestUser {
 public:
  // `dir` keeps useradd's output; `tag` tells apart the users of one test.
  // CTest runs tests in parallel processes, and useradd refuses while
  // another holds /etc/passwd's lock (exit 10): retry.
  explicit TestUser(const std::filesystem::path& dir, const std::string& tag = "")
      : dir_(dir), name_("preroll-t" + std::to_string(::getpid()) + tag) {
    run_program(dir_, "/usr/sbin/userdel", {name_});  // left over from a killed run, if any
    CtlResult r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      r = run_program(dir_, "/usr/sbin/useradd",
                      {"--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name_});
      if (r.status != 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    INFO("useradd " << name_ << ": " << r.err);
    REQUIRE(r.status == 0);
    const passwd* pw = ::getpwnam(name_.c_str());
    REQUIRE(pw != nullptr);
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }
  // No REQUIRE here: a destructor may run while a failed REQUIRE unwinds.
  ~TestUser() {
    try {
      for (int attempt = 0; attempt < 300; ++attempt) {
        Process p({"/usr/sbin/userdel", name_}, {}, dir_ / "userdel.out", dir_ / "userdel.err");
        const auto st = p.wait(std::chrono::seconds(30));
        if (!st || exit_code(*st) != 10) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    } catch (...) {
    }
  }
  TestUser(const TestUser&) = delete;
  TestUser& operator=(const TestUser&) = delete;

  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  const std::string& name() const { return name_; }

  // `setpriv` arguments that run what follows as this user and group only.
  std::vector<std::string> setpriv_args() const {
    return {"--reuid=" + std::to_string(uid_), "--regid=" + std::to_string(gid_), "--clear-groups"};
  }

  // Runs `program args...` as this user to completion.
  CtlResult run(const std::string& program, const std::vector<std::string>& args) const {
    auto argv = setpriv_args();
    argv.push_back(program);
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(dir_, "/usr/bin/setpriv", argv);
  }

 private:
  std::filesystem::path dir_;
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace preroll::test
