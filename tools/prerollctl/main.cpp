// prerollctl: asks a running prerolld over its control socket (newline-
// delimited JSON, see docs/protocol.md) and prints the answer.
//
//   prerollctl [--socket PATH] [--json] version|stats [--prometheus]|policy|clients|reload|
//              flush [--pid PID]|snapshot --pid PID|top [--interval S] [--iterations N]
//
// PATH is the daemon's registration socket (as given to prerolld --socket);
// the control socket is derived from it (shm::control_socket_path).
// Exit status: 0 ok, 1 the daemon answered with an error, 2 usage error or
// no daemon to talk to.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control_client.hpp"
#include "preroll/shm/paths.hpp"
#include "render.hpp"
#include "top.hpp"

namespace {

using namespace preroll::ctl;

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: prerollctl [--socket PATH] [--json] COMMAND\n"
               "\n"
               "Commands:\n"
               "  version   the daemon's version\n"
               "  stats [--prometheus]\n"
               "            counters and gauges, per pattern and per client (Prometheus text format\n"
               "            with --prometheus)\n"
               "  top [--interval S] [--iterations N]\n"
               "            a live view refreshed every S seconds (1): rates, disk, busiest clients\n"
               "  policy    the marking policy: patterns, kind, regex fallbacks, hits\n"
               "  clients   attached client processes (yours only unless root or the daemon's user)\n"
               "  reload    re-read the policy (root or the daemon's user)\n"
               "  flush [--pid PID]\n"
               "            write every marked event still waiting in a ring and fdatasync the files,\n"
               "            for one client or all; returns when done (root or the daemon's user)\n"
               "  snapshot --pid PID [--reason TEXT]\n"
               "            write that client's current windows now (root or the daemon's user)\n"
               "\n"
               "Options:\n"
               "  --socket PATH  the daemon's registration socket, as given to prerolld --socket\n"
               "                 (default %s); the control socket is prerolld.ctl next to it\n"
               "  --json         print the daemon's JSON reply\n"
               "  -h, --help     this text\n"
               "\n"
               "Exit status: 0 ok, 1 the daemon reported an error, 2 usage error or daemon not reachable.\n",
               preroll::shm::default_socket_path().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = preroll::shm::default_socket_path();
  bool as_json = false;
  std::optional<std::string> command;
  std::optional<std::uint32_t> pid;
  std::string reason;
  bool prometheus = false;
  TopOptions top;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--pid" || a == "--reason" || a == "--interval" || a == "--iterations") && i + 1 >= argc) {
      std::fprintf(stderr, "prerollctl: %s needs a value\n", a.c_str());
      return 2;
    }
    if (a == "--pid") {
      const std::string v = argv[++i];
      char* end = nullptr;
      const unsigned long long p = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || p == 0 || p > 0xFFFFFFFFull) {
        std::fprintf(stderr, "prerollctl: --pid %s is not a process id\n", v.c_str());
        return 2;
      }
      pid = static_cast<std::uint32_t>(p);
      continue;
    }
    if (a == "--reason") {
      reason = argv[++i];
      continue;
    }
    if (a == "--interval" || a == "--iterations") {
      const std::string v = argv[++i];
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      const bool whole = a == "--iterations";
      if (v.empty() || *end != '\0' || !(d >= (whole ? 1 : 0.1)) || d > 86400 || (whole && d != static_cast<int>(d))) {
        std::fprintf(stderr, "prerollctl: %s %s is not %s\n", a.c_str(), v.c_str(),
                     whole ? "a whole number of at least 1" : "a number of seconds from 0.1");
        return 2;
      }
      if (whole) top.iterations = static_cast<int>(d);
      else top.interval_s = d;
      continue;
    }
    if (a == "--prometheus") {
      prometheus = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--json") {
      as_json = true;
    } else if (a == "--socket" || a.rfind("--socket=", 0) == 0) {
      if (a == "--socket") {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "prerollctl: --socket needs a path\n");
          return 2;
        }
        socket = argv[++i];
      } else {
        socket = a.substr(9);
      }
      if (socket.empty()) {
        std::fprintf(stderr, "prerollctl: --socket needs a path\n");
        return 2;
      }
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "prerollctl: unknown option %s\n", a.c_str());
      usage(stderr);
      return 2;
    } else if (command) {
      std::fprintf(stderr, "prerollctl: one command only (got %s and %s)\n", command->c_str(), a.c_str());
      return 2;
    } else {
      command = a;
    }
  }
  static const std::vector<std::string> known = {"version", "stats", "policy", "clients",
                                                 "reload",  "flush", "snapshot", "top"};
  if (!command) {
    usage(stderr);
    return 2;
  }
  if (std::find(known.begin(), known.end(), *command) == known.end()) {
    std::fprintf(stderr, "prerollctl: unknown command %s\n", command->c_str());
    usage(stderr);
    return 2;
  }

  if (prometheus && (*command != "stats" || as_json)) {
    std::fprintf(stderr, "prerollctl: --prometheus goes with stats, without --json\n");
    return 2;
  }
  const std::string control = preroll::shm::control_socket_path(socket);
  if (*command == "top") return run_top(control, socket, top);

  json request = {{"cmd", *command}};
  if (*command == "flush" && pid) request["pid"] = *pid;
  if (prometheus) request["format"] = "prometheus";
  if (*command == "snapshot") {
    if (!pid) {
      std::fprintf(stderr, "prerollctl: snapshot needs --pid PID\n");
      return 2;
    }
    request["pid"] = *pid;
    if (!reason.empty()) request["reason"] = reason;
  }
  std::string line;
  try {
    // A flush waits for the disk: give it longer than a query.
    line = ask(control, request.dump(), *command == "flush" ? 120000 : 10000);
  } catch (const Failure& f) {
    std::fprintf(stderr, "prerollctl: %s [registration socket %s]\n", f.message.c_str(), socket.c_str());
    return 2;
  }
  json reply;
  try {
    reply = json::parse(line);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prerollctl: unreadable reply from %s: %s\n", control.c_str(), e.what());
    return 1;
  }
  const bool ok = reply.is_object() && reply.value("ok", false);
  if (as_json) std::printf("%s\n", reply.dump(2, ' ', false, json::error_handler_t::replace).c_str());
  if (!ok) {
    std::fprintf(stderr, "prerollctl: %s: %s\n", command->c_str(),
                 reply.is_object() ? str(reply.value("error", json("error"))).c_str() : "bad reply");
    return 1;
  }
  if (as_json) return 0;
  try {
    if (*command == "version") {
      std::printf("prerolld %s\n", str(reply.value("version", json("?"))).c_str());
    } else if (*command == "stats" && prometheus) {
      std::fputs(str(reply.value("prometheus", json(""))).c_str(), stdout);
    } else if (*command == "stats") {
      print_stats(reply);
    } else if (*command == "policy") {
      print_policy(reply.value("policy", json::object()));
    } else if (*command == "clients") {
      print_clients(reply);
    } else if (*command == "flush") {
      std::printf("flushed %s client(s): %s window(s) written, %s file(s) synced\n",
                  num(reply.value("clients", json(0))).c_str(), num(reply.value("windows_written", json(0))).c_str(),
                  num(reply.value("files_synced", json(0))).c_str());
    } else if (*command == "reload" || *command == "snapshot") {
      std::printf("%s\n", str(reply.value("status", json("ok"))).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prerollctl: unexpected reply shape: %s\n", e.what());
    return 1;
  }
  return 0;
}
