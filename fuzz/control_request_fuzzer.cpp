// libFuzzer target: the control socket's request parser
// (preroll::daemon::control::parse_request, prerollctl -> prerolld), on
// arbitrary bytes as one request line.
//
// parse_request is noexcept: an exception escaping it would terminate the
// daemon's io thread, and here aborts the fuzzer (a finding). Besides
// sanitizer findings, these promises hold for every input, or the target
// traps:
//   - exactly one of a request and an error text;
//   - a line longer than max_request_bytes is refused;
//   - snapshot has a pid (1..2^32-1) and a reason of at most 256 bytes; only
//     snapshot and flush carry a pid, only stats a format;
//   - a request re-encoded as {"cmd":...} with its members parses back to
//     the same request.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "control/control_protocol.hpp"

namespace control = preroll::daemon::control;

#define FUZZ_CHECK(cond)                                                                                 \
  do {                                                                                                   \
    if (!(cond)) {                                                                                       \
      std::fprintf(stderr, "control_request_fuzzer: invariant violated: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                                            \
      __builtin_trap();                                                                                  \
    }                                                                                                    \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const control::ParseResult r = control::parse_request(line);
  FUZZ_CHECK(r.request.has_value() != !r.error.empty());
  if (size > control::max_request_bytes) FUZZ_CHECK(!r.request);
  if (!r.request) return 0;

  const control::Request& q = *r.request;
  const char* name = control::command_name(q.cmd);
  FUZZ_CHECK(std::string_view(name) != "?");
  FUZZ_CHECK(q.reason.size() <= 256);
  if (q.cmd == control::Command::snapshot) FUZZ_CHECK(q.pid != 0);
  if (q.cmd != control::Command::snapshot && q.cmd != control::Command::flush) FUZZ_CHECK(q.pid == 0);
  if (q.cmd != control::Command::snapshot) FUZZ_CHECK(q.reason.empty());
  if (q.cmd != control::Command::stats) FUZZ_CHECK(!q.prometheus);

  // Round trip through the documented request form.
  nlohmann::json j = {{"cmd", name}};
  if (q.pid != 0) j["pid"] = q.pid;
  if (q.cmd == control::Command::snapshot && !q.reason.empty()) j["reason"] = q.reason;
  if (q.prometheus) j["format"] = "prometheus";
  // The reason is cut at 256 bytes, which may split a UTF-8 sequence: dump
  // it the way replies are dumped (invalid bytes replaced) and compare the
  // rest of the request in that case.
  const std::string again = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const control::ParseResult r2 = control::parse_request(again);
  FUZZ_CHECK(r2.request.has_value());
  FUZZ_CHECK(r2.request->cmd == q.cmd && r2.request->pid == q.pid && r2.request->prometheus == q.prometheus);
  if (again.find("\\ufffd") == std::string::npos && again.find("\xEF\xBF\xBD") == std::string::npos)
    FUZZ_CHECK(r2.request->reason == q.reason);
  return 0;
}
