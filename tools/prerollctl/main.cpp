// prerollctl: asks a running prerolld over its control socket (newline-
// delimited JSON, see docs/protocol.md) and prints the answer.
//
//   prerollctl [--socket PATH] [--json] version|stats|policy|clients|reload|snapshot --pid PID
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

#include "preroll/shm/paths.hpp"

namespace {

using nlohmann::json;

constexpr int timeout_ms = 10000;

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: prerollctl [--socket PATH] [--json] COMMAND\n"
               "\n"
               "Commands:\n"
               "  version   the daemon's version\n"
               "  stats     counters, storage ratio, per-pattern hits\n"
               "  policy    the marking policy: patterns, kind, regex fallbacks, hits\n"
               "  clients   attached client processes (yours only unless root or the daemon's user)\n"
               "  reload    re-read the policy (root or the daemon's user)\n"
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

struct Failure {
  std::string message;
};

// Sends one request line and returns the reply line. Throws Failure.
std::string ask(const std::string& path, const std::string& request) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Failure{"control socket " + path + ": path too long"};
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw Failure{std::string("socket(): ") + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    throw Failure{"cannot reach prerolld at control socket " + path + ": " + std::strerror(err) +
                  (err == ENOENT || err == ECONNREFUSED ? " (is the daemon running?)" : "")};
  }
  const std::string line = request + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Failure{"control socket " + path + ": send: " + std::strerror(errno)};
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Failure{"control socket " + path + ": no reply within 10 s"};
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Failure{std::string("poll: ") + std::strerror(errno)};
    if (r == 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Failure{"control socket " + path + ": recv: " + std::strerror(errno)};
    }
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = reply.find('\n'); nl != std::string::npos) {
      reply.resize(nl);
      return reply;
    }
  }
  if (reply.empty()) throw Failure{"control socket " + path + ": the daemon closed the connection without a reply"};
  return reply;
}

std::string num(const json& v) {
  if (v.is_number_float()) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", v.get<double>());
    return b;
  }
  return v.dump();
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string last_text(const json& last) {
  if (!last.is_object()) return "";
  return "last: pid " + num(last.value("pid", json(0))) + " \"" + str(last.value("excerpt", json(""))) + "\"";
}

void print_stats(const json& j) {
  std::size_t width = 0;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.value().is_number()) width = std::max(width, it.key().size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number()) continue;
    std::string v = num(it.value());
    if (it.key() == "storage_ratio") {
      char b[64];
      std::snprintf(b, sizeof b, "%.4f (%.1f%% of captured bytes persisted)", it.value().get<double>(),
                    100.0 * it.value().get<double>());
      v = b;
    }
    std::printf("%-*s  %s\n", static_cast<int>(width), it.key().c_str(), v.c_str());
  }
  const auto& patterns = j.value("patterns", json::array());
  if (!patterns.empty()) {
    std::printf("\n%4s  %10s  %s\n", "id", "hits", "pattern");
    for (const auto& p : patterns) {
      std::printf("%4s  %10s  %s", num(p.value("id", json(0))).c_str(), num(p.value("hits", json(0))).c_str(),
                  str(p.value("text", json(""))).c_str());
      const std::string last = last_text(p.value("last", json(nullptr)));
      if (!last.empty()) std::printf("  (%s)", last.c_str());
      std::printf("\n");
    }
  }
}

void print_policy(const json& pol) {
  for (const char* key : {"marking", "engine", "trigger_level", "field", "ignore_case", "pre_roll", "post_roll",
                          "flush_after_s", "on_crash"})
    if (pol.contains(key)) std::printf("%-14s %s\n", key, str(pol[key]).c_str());
  const auto& patterns = pol.value("patterns", json::array());
  std::printf("\n%d pattern(s)\n", static_cast<int>(patterns.size()));
  if (!patterns.empty()) {
    std::size_t text_w = 4;
    for (const auto& p : patterns) text_w = std::max(text_w, str(p.value("text", json(""))).size() + 2);
    text_w = std::min<std::size_t>(text_w, 40);
    std::printf("%4s  %-7s  %-*s  %10s  %s\n", "id", "kind", static_cast<int>(text_w), "text", "hits", "notes");
    for (const auto& p : patterns) {
      std::string notes;
      if (p.contains("fallback"))
        notes += "invalid regex, matched as literal text (" + str(p["fallback"]) + ")";
      if (p.contains("min_count"))
        notes += (notes.empty() ? "" : "; ") + std::string("marks at ") + num(p["min_count"]) + " matches within " +
                 num(p.value("within_s", json(0.0))) + " s";
      const std::string last = last_text(p.value("last", json(nullptr)));
      if (!last.empty()) notes += (notes.empty() ? "" : "; ") + last;
      const std::string text = "'" + str(p.value("text", json(""))) + "'";
      std::printf("%4s  %-7s  %-*s  %10s  %s\n", num(p.value("id", json(0))).c_str(),
                  str(p.value("kind", json(""))).c_str(), static_cast<int>(text_w), text.c_str(),
                  num(p.value("hits", json(0))).c_str(), notes.c_str());
    }
  }
  const auto& warnings = pol.value("warnings", json::array());
  for (const auto& w : warnings) std::printf("warning: %s\n", str(w).c_str());
}

void print_clients(const json& j) {
  const auto& list = j.value("clients", json::array());
  std::printf("%8s  %8s  %8s  %s\n", "pid", "uid", "session", "process");
  for (const auto& c : list)
    std::printf("%8s  %8s  %8s  %s\n", num(c.value("pid", json(0))).c_str(), num(c.value("uid", json(0))).c_str(),
                num(c.value("session", json(0))).c_str(), str(c.value("process_name", json(""))).c_str());
  if (!j.value("all_users", true)) std::printf("(only your own processes are shown)\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = preroll::shm::default_socket_path();
  bool as_json = false;
  std::optional<std::string> command;
  std::optional<std::uint32_t> pid;
  std::string reason;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--pid" || a == "--reason") && i + 1 >= argc) {
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
  static const std::vector<std::string> known = {"version", "stats", "policy", "clients", "reload", "snapshot"};
  if (!command) {
    usage(stderr);
    return 2;
  }
  if (std::find(known.begin(), known.end(), *command) == known.end()) {
    std::fprintf(stderr, "prerollctl: unknown command %s\n", command->c_str());
    usage(stderr);
    return 2;
  }

  json request = {{"cmd", *command}};
  if (*command == "snapshot") {
    if (!pid) {
      std::fprintf(stderr, "prerollctl: snapshot needs --pid PID\n");
      return 2;
    }
    request["pid"] = *pid;
    if (!reason.empty()) request["reason"] = reason;
  }
  const std::string control = preroll::shm::control_socket_path(socket);
  std::string line;
  try {
    line = ask(control, request.dump());
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
    } else if (*command == "stats") {
      print_stats(reply);
    } else if (*command == "policy") {
      print_policy(reply.value("policy", json::object()));
    } else if (*command == "clients") {
      print_clients(reply);
    } else if (*command == "reload" || *command == "snapshot") {
      std::printf("%s\n", str(reply.value("status", json("ok"))).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prerollctl: unexpected reply shape: %s\n", e.what());
    return 1;
  }
  return 0;
}
