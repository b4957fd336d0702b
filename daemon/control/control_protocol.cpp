#include "control/control_protocol.hpp"

#include <array>
#include <utility>

namespace preroll::daemon::control {

namespace {
constexpr std::array<std::pair<const char*, Command>, 7> commands = {{
    {"version", Command::version},
    {"stats", Command::stats},
    {"policy", Command::policy},
    {"clients", Command::clients},
    {"reload", Command::reload},
    {"snapshot", Command::snapshot},
    {"flush", Command::flush},
}};

ParseResult fail(std::string message) { return {std::nullopt, std::move(message)}; }

std::string known_list() {
  std::string s;
  for (const auto& [name, c] : commands) s += (s.empty() ? "" : ", ") + std::string(name);
  return s;
}
}  // namespace

const char* command_name(Command c) noexcept {
  for (const auto& [name, cmd] : commands)
    if (cmd == c) return name;
  return "?";
}

bool is_mutating(Command c) noexcept {
  return c == Command::reload || c == Command::snapshot || c == Command::flush;
}

ParseResult parse_request(std::string_view line) noexcept {
  try {
    if (line.size() > max_request_bytes)
      return fail("request longer than " + std::to_string(max_request_bytes) + " bytes");
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return fail("empty request");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("malformed JSON: ") + e.what());
    }
    if (!j.is_object()) return fail("request must be a JSON object like {\"cmd\":\"stats\"}");
    const auto it = j.find("cmd");
    if (it == j.end()) return fail("request has no \"cmd\" member");
    if (!it->is_string()) return fail("\"cmd\" must be a string");
    const auto& name = it->get_ref<const std::string&>();
    for (const auto& [n, c] : commands) {
      if (name != n) continue;
      Request r;
      r.cmd = c;
      if (c == Command::flush) {
        const auto pid = j.find("pid");
        if (pid != j.end()) {
          if (!pid->is_number_unsigned() || pid->get<std::uint64_t>() == 0 || pid->get<std::uint64_t>() > 0xFFFFFFFFu)
            return fail("flush: \"pid\" must be a process id");
          r.pid = static_cast<std::uint32_t>(pid->get<std::uint64_t>());
        }
      }
      if (c == Command::stats) {
        const auto format = j.find("format");
        if (format != j.end()) {
          if (!format->is_string() || (*format != "json" && *format != "prometheus"))
            return fail("stats: \"format\" must be \"json\" or \"prometheus\"");
          r.prometheus = *format == "prometheus";
        }
      }
      if (c == Command::snapshot) {
        const auto pid = j.find("pid");
        if (pid == j.end() || !pid->is_number_unsigned() || pid->get<std::uint64_t>() == 0 ||
            pid->get<std::uint64_t>() > 0xFFFFFFFFu)
          return fail("snapshot needs \"pid\": a process id");
        r.pid = static_cast<std::uint32_t>(pid->get<std::uint64_t>());
        const auto reason = j.find("reason");
        if (reason != j.end()) {
          if (!reason->is_string()) return fail("\"reason\" must be a string");
          r.reason = reason->get<std::string>().substr(0, 256);
        }
      }
      return {std::move(r), {}};
    }
    std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
    return fail("unknown command \"" + shown + "\" (known: " + known_list() + ")");
  } catch (const std::exception& e) {
    return fail(std::string("bad request: ") + e.what());
  } catch (...) {
    return fail("bad request");
  }
}

std::string ok_reply(nlohmann::json body) {
  nlohmann::json j = {{"ok", true}};
  if (body.is_object()) j.update(body);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string error_reply(std::string_view message) {
  const nlohmann::json j = {{"ok", false}, {"error", std::string(message)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace preroll::daemon::control
