// FILE_HEADER payload: a JSON object, so the header describes itself and can
// grow without a format change (readers ignore keys they do not know).
#include <limits>
#include <nlohmann/json.hpp>

#include "payloads.hpp"

namespace preroll::atf::format {
namespace {

using nlohmann::json;

// Reads optional keys of a header object; a key that is present must have
// the right type and range, else the header is rejected (it passed its
// checksum, so a wrong type means a buggy or hostile writer).
class FieldReader {
 public:
  FieldReader(const json& object, std::string& why) : object_(object), why_(why) {}

  bool text(const char* key, std::string& out) {
    const json* value = find(key);
    if (value == nullptr) return true;
    if (!value->is_string()) return fail(key, "a string");
    out = value->get<std::string>();
    return true;
  }

  template <typename T>
  bool integer(const char* key, T& out) {
    const json* value = find(key);
    if (value == nullptr) return true;
    if (value->is_number_unsigned()) {
      const auto v = value->get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return fail(key, "in range");
      out = static_cast<T>(v);
      return true;
    }
    if (value->is_number_integer()) {
      const auto v = value->get<std::int64_t>();
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min())) return fail(key, "in range");
      out = static_cast<T>(v);
      return true;
    }
    return fail(key, "an integer");
  }

 private:
  const json* find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  bool fail(const char* key, const char* expected) {
    why_ = std::string("header field \"") + key + "\" is not " + expected;
    return false;
  }

  const json& object_;
  std::string& why_;
};

}  // namespace

void append_header_payload(std::vector<std::uint8_t>& buf, const FileHeader& h) {
  // Member by member rather than from an initializer list: the same object
  // (keys are sorted either way), and no temporary array of them to unwind.
  json object = json::object();
  object["format_version"] = kVersion;
  object["preroll_version"] = h.preroll_version;
  object["host_name"] = h.host_name;
  object["boot_id"] = h.boot_id;
  object["pid"] = h.pid;
  object["uid"] = h.uid;
  object["process_name"] = h.process_name;
  object["command_line"] = h.command_line;
  object["process_start_ns"] = h.process_start_ns;
  object["clock_realtime_ns"] = h.clock_realtime_ns;
  object["clock_monotonic_ns"] = h.clock_monotonic_ns;
  // A string, not an embedded object, so it round-trips byte for byte.
  object["policy_json"] = h.policy_json;
  object["file_sequence"] = h.file_sequence;
  // Strings come from the traced process (its name, its command line) and
  // need not be UTF-8; JSON must be, so invalid bytes become U+FFFD.
  const std::string text = object.dump(-1, ' ', false, json::error_handler_t::replace);
  buf.insert(buf.end(), text.begin(), text.end());
}

bool decode_header_payload(Bytes payload, FileHeader& out, std::string& why) {
  const json object = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) {
    why = "header record is not valid JSON";
    return false;
  }
  if (!object.is_object()) {
    why = "header record is not a JSON object";
    return false;
  }
  FileHeader h;
  FieldReader r(object, why);
  const bool ok = r.integer("format_version", h.format_version) && r.text("preroll_version", h.preroll_version) &&
                  r.text("host_name", h.host_name) && r.text("boot_id", h.boot_id) && r.integer("pid", h.pid) &&
                  r.integer("uid", h.uid) && r.text("process_name", h.process_name) &&
                  r.text("command_line", h.command_line) && r.integer("process_start_ns", h.process_start_ns) &&
                  r.integer("clock_realtime_ns", h.clock_realtime_ns) &&
                  r.integer("clock_monotonic_ns", h.clock_monotonic_ns) && r.text("policy_json", h.policy_json) &&
                  r.integer("file_sequence", h.file_sequence);
  if (!ok) return false;
  out = std::move(h);
  return true;
}

}  // namespace preroll::atf::format
