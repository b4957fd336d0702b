#include "atf_sink.hpp"

#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <spdlog/spdlog.h>
#include <system_error>

namespace preroll::daemon {

namespace {
std::int64_t clock_ns(clockid_t id) noexcept {
  timespec ts;
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

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

AtfSink::AtfSink(std::filesystem::path output_dir, ClientIdentity client, std::string policy_json)
    : dir_(std::move(output_dir)), client_(std::move(client)), policy_json_(std::move(policy_json)) {}

AtfSink::~AtfSink() { close(); }

bool AtfSink::open_file() {
  const time_t start = static_cast<time_t>(client_.start_realtime_ns / 1000000000ull);
  tm t{};
  ::gmtime_r(&start, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &t);
  const std::string base = safe_file_part(client_.process_name) + "-" + std::to_string(client_.pid) + "-" + stamp;

  atf::FileHeader h;
  h.preroll_version = PREROLL_VERSION;
  h.host_name = host_name();
  h.boot_id = boot_id();
  h.pid = client_.pid;
  h.uid = client_.uid;
  h.process_name = client_.process_name;
  h.command_line = client_.command_line;
  h.process_start_ns = client_.start_monotonic_ns;
  h.clock_realtime_ns = clock_ns(CLOCK_REALTIME);
  h.clock_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
  h.policy_json = policy_json_;
  // A pid reused within the same second would collide: number the name.
  for (int n = 0; n < 100; ++n) {
    path_ = dir_ / (base + (n == 0 ? "" : "." + std::to_string(n)) + ".atf");
    try {
      writer_ = atf::Writer::create(path_, h);
      spdlog::info("pid {} ({}): writing {}", client_.pid, client_.process_name, path_.string());
      return true;
    } catch (const std::system_error& e) {
      if (e.code() == std::errc::file_exists) continue;
      spdlog::error("pid {}: cannot create {}: {}", client_.pid, path_.string(), e.what());
      return false;
    }
  }
  spdlog::error("pid {}: no free file name for {}", client_.pid, base);
  return false;
}

bool AtfSink::persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) {
  if (!writer_ && !open_file()) return false;
  atf::WindowMeta m = meta;
  m.window_id = next_window_id_;
  try {
    writer_->append_window(m, events);
    ++next_window_id_;
    return true;
  } catch (const std::exception& e) {
    // The writer left the file at its last complete record; count and go on.
    if (errors_++ < 10) spdlog::error("pid {}: window not written: {}", client_.pid, e.what());
    return false;
  }
}

void AtfSink::close() noexcept {
  if (!writer_) return;
  try {
    writer_->close();
  } catch (const std::exception& e) {
    spdlog::error("pid {}: closing {}: {}", client_.pid, path_.string(), e.what());
  }
  writer_.reset();
}

}  // namespace preroll::daemon
