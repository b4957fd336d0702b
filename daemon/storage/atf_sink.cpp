#include "storage/atf_sink.hpp"

#include <time.h>
#include <unistd.h>

#include <ctime>

#include <cctype>
#include <fstream>
#include <iterator>

namespace preroll::daemon {

namespace {
std::string safe_file_part(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_');
  if (out.empty() || out[0] == '.') out.insert(out.begin(), 'p');
  return out;
}
}  // namespace

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string boot_id() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

std::string read_command_line(std::uint32_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw)
    if (c == '\0') c = ' ';
  return raw;
}

std::string file_base_name(const ClientIdentity& client) {
  const time_t start = static_cast<time_t>(client.start_realtime_ns / 1000000000ull);
  tm t{};
  ::gmtime_r(&start, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &t);
  return safe_file_part(client.process_name) + "-" + std::to_string(client.pid) + "-" + stamp;
}

AtfSink::AtfSink(FileStore& store, const ClientIdentity& client, std::string policy_json) : store_(store) {
  atf::FileHeader h;
  h.preroll_version = PREROLL_VERSION;
  h.host_name = host_name();
  h.boot_id = boot_id();
  h.pid = client.pid;
  h.uid = client.uid;
  h.process_name = client.process_name;
  h.command_line = client.command_line;
  h.process_start_ns = client.start_monotonic_ns;
  h.policy_json = std::move(policy_json);
  stream_ = store_.open_stream(file_base_name(client), std::move(h),
                               "pid " + std::to_string(client.pid) + " (" + client.process_name + ")");
}

AtfSink::~AtfSink() { close(); }

bool AtfSink::persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) {
  return store_.append(*stream_, meta, events);
}

void AtfSink::close() noexcept { store_.close(*stream_); }

}  // namespace preroll::daemon
