// The control socket's wire format (prerollctl <-> prerolld): one JSON object
// per line each way. A request is {"cmd":"NAME"}; a reply is
// {"ok":true,...} or {"ok":false,"error":"..."}. Pure functions, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace preroll::daemon::control {

// Longest request line accepted, newline excluded.
inline constexpr std::size_t max_request_bytes = 4096;

enum class Command { version, stats, policy, clients, reload, snapshot, flush };

struct Request {
  Command cmd = Command::version;
  std::uint32_t pid = 0;  // snapshot: the client process; flush: one client (0: all)
  std::string reason;     // snapshot: why, for the log (at most 256 bytes)
  bool prometheus = false;  // stats: {"format":"prometheus"} answers the text exposition format
};

// Either a request or an error text for the reply.
struct ParseResult {
  std::optional<Request> request;
  std::string error;
};

// Parses one request line (without its newline; a trailing '\r' or blanks
// are allowed). Never throws.
[[nodiscard]] ParseResult parse_request(std::string_view line) noexcept;

[[nodiscard]] const char* command_name(Command c) noexcept;
// Whether the command changes the daemon (root and the daemon's uid only).
[[nodiscard]] bool is_mutating(Command c) noexcept;

// Reply lines, newline included. ok_reply adds "ok":true to `body` (an object).
[[nodiscard]] std::string ok_reply(nlohmann::json body);
[[nodiscard]] std::string error_reply(std::string_view message);

}  // namespace preroll::daemon::control
