#include "storage/file_store.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <system_error>
#include <vector>

namespace preroll::daemon {

namespace {

// Repeated failures of one kind are logged at most this often (with a count),
// so a full disk does not flood the journal.
constexpr auto kReportEvery = std::chrono::seconds(10);

// The smallest rotation size a quota may force: below it the per-file
// overhead (header, END) would dominate.
constexpr std::uint64_t kMinRotateAt = 64u << 10;

// Headroom for a new file's preamble and header record (the policy JSON may
// be long; an estimate is enough: the quota is checked again next window).
constexpr std::uint64_t kNewFileBound = 16u << 10;

// An END record: 16-byte header and 24-byte payload.
constexpr std::uint64_t kEndRecordSize = 40;

std::string sequence_suffix(std::uint32_t n) {
  char text[16];
  std::snprintf(text, sizeof text, "-%03u.atf", n);
  return text;
}

}  // namespace

std::uint64_t window_size_bound(const atf::WindowMeta& meta, std::span<const atf::EventView> events) noexcept {
  // WINDOW record, then EVENTS records of at most 4 MiB each: 16-byte record
  // header, 16-byte batch header, 7 bytes of padding per record.
  std::uint64_t raw = 0;
  for (const atf::EventView& e : events) raw += 16 + e.name.size() + e.message.size();
  const std::uint64_t records = raw / ((4u << 20) - 70000) + 1;
  return 16 + 80 + 8 * meta.patterns.size() + 8 + raw + records * 40;
}

FileStore::Stream::Stream(FileStore& store, std::string base, atf::FileHeader header, std::string label)
    : store_(store), base_(std::move(base)), header_(std::move(header)), label_(std::move(label)) {}

FileStore::Stream::~Stream() { store_.close(*this); }

FileStore::FileStore(std::filesystem::path dir, const StorageConfig& config, DaemonStats& stats)
    : dir_(std::move(dir)), config_(config), stats_(stats) {
  quota_ = resolve_disk_quota(config_, dir_.string());
  rotate_at_ = config_.max_file_size;
  if (quota_ != 0) {
    // Files are deleted whole: no file may hold more than a tenth of the
    // quota, so the quota frees space in small steps.
    const std::uint64_t tenth = std::max(quota_ / 10, kMinRotateAt);
    rotate_at_ = rotate_at_ == 0 ? tenth : std::min(rotate_at_, tenth);
  }
  stats_.disk_quota_bytes.store(quota_, std::memory_order_relaxed);

  // Earlier runs' files: closed, deleted oldest first.
  struct Found {
    std::filesystem::path path;
    std::uint64_t size;
    timespec mtime;
  };
  std::vector<Found> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".atf") continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    found.push_back({it->path(), static_cast<std::uint64_t>(st.st_size), st.st_mtim});
  }
  if (ec) spdlog::warn("output directory {}: listing it failed: {}", dir_.string(), ec.message());
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
    if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
    return a.path < b.path;
  });
  std::uint64_t total = 0;
  for (Found& f : found) {
    total += f.size;
    closed_.push_back({std::move(f.path), f.size});
  }
  set_usage(total);
  spdlog::info("output {}: {} files, {}; quota {}, files rotate at {}; compression {}, fsync {}", dir_.string(),
               closed_.size(), format_size(usage_), quota_ == 0 ? "none" : format_size(quota_),
               rotate_at_ == 0 ? "never" : format_size(rotate_at_), atf::to_string(config_.compression),
               to_string(config_.fsync));
  if (quota_ != 0 && usage_ > quota_ && !make_room(0))
    spdlog::warn("output {}: {} over the quota of {} and nothing left to delete", dir_.string(),
                 format_size(usage_), format_size(quota_));
}

FileStore::~FileStore() {
  for (Stream* s : std::set<Stream*>(open_)) close(*s);
}

std::unique_ptr<FileStore::Stream> FileStore::open_stream(std::string base, atf::FileHeader header,
                                                          std::string label) {
  return std::unique_ptr<Stream>(new Stream(*this, std::move(base), std::move(header), std::move(label)));
}

void FileStore::set_usage(std::uint64_t bytes) noexcept {
  usage_ = bytes;
  stats_.disk_usage_bytes.store(bytes, std::memory_order_relaxed);
}

void FileStore::report_failure(Stream& s, const std::string& what) {
  ++s.failures_;
  const auto now = std::chrono::steady_clock::now();
  if (s.failures_ == 1 || now - s.last_report_ >= kReportEvery) {
    s.last_report_ = now;
    spdlog::error("{}: {}; window not written ({} failed in a row, capture goes on)", s.label_, what, s.failures_);
  }
}

bool FileStore::make_room(std::uint64_t incoming) {
  if (quota_ == 0) return true;
  while (usage_ + incoming > quota_ && !closed_.empty()) {
    ClosedFile victim = std::move(closed_.front());
    closed_.pop_front();
    if (::unlink(victim.path.c_str()) != 0 && errno != ENOENT) {
      // Still on disk but out of our hands: keep counting it, never retry.
      spdlog::error("quota: cannot delete {}: {}", victim.path.string(), std::strerror(errno));
      continue;
    }
    set_usage(usage_ - std::min(usage_, victim.size));
    DaemonStats::add(stats_.files_deleted);
    DaemonStats::add(stats_.bytes_deleted, victim.size);
    spdlog::info("quota: deleted {} ({}); output now {} of {}", victim.path.string(), format_size(victim.size),
                 format_size(usage_), format_size(quota_));
  }
  return usage_ + incoming <= quota_;
}

bool FileStore::open_file(Stream& s) {
  atf::FileHeader header = s.header_;
  // The clock pair is read per file: a wall clock stepped since (NTP) shows
  // in the next file instead of skewing all of them.
  timespec real{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  header.clock_realtime_ns = static_cast<std::int64_t>(real.tv_sec) * 1000000000 + real.tv_nsec;
  header.clock_monotonic_ns = static_cast<std::int64_t>(mono.tv_sec) * 1000000000 + mono.tv_nsec;
  const atf::WriterOptions options{config_.compression, config_.zstd_level};
  // A name taken by another file (a pid reused within the same second, or
  // files left by an earlier daemon) moves this client to a fresh base.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::filesystem::path path = dir_ / (s.base_ + sequence_suffix(s.sequence_));
    header.file_sequence = s.sequence_;
    try {
      s.writer_ = atf::Writer::create(path, header, options);
    } catch (const std::system_error& e) {
      if (e.code() == std::errc::file_exists) {
        if (s.sequence_ == 0) s.base_ += "_" + std::to_string(attempt + 1);
        else ++s.sequence_;
        continue;
      }
      DaemonStats::add(stats_.write_errors);
      report_failure(s, std::string("cannot create file: ") + e.what());
      return false;
    }
    {
      std::lock_guard lock(s.path_mutex_);
      s.path_ = path;
    }
    ++s.files_;
    open_.insert(&s);
    set_usage(usage_ + s.writer_->bytes_written());
    DaemonStats::add(stats_.files_created);
    DaemonStats::add(stats_.files_open);
    spdlog::info("{}: writing {}", s.label_, path.string());
    return true;
  }
  DaemonStats::add(stats_.write_errors);
  report_failure(s, "no free file name for " + s.base_);
  return false;
}

void FileStore::close_file(Stream& s, bool sync) noexcept {
  if (!s.writer_) return;
  const std::uint64_t before = s.writer_->bytes_written();
  try {
    s.writer_->close(sync);
  } catch (const std::exception& e) {
    DaemonStats::add(stats_.write_errors);
    spdlog::error("{}: closing {}: {}", s.label_, s.path_.string(), e.what());
  }
  // The END record, when it could be written, grew the file.
  const std::uint64_t size = s.writer_->bytes_written();
  set_usage(usage_ + (size - before));
  closed_.push_back({s.path_, size});
  s.writer_.reset();
  s.dirty_ = false;
  open_.erase(&s);
  stats_.files_open.fetch_sub(1, std::memory_order_relaxed);
}

bool FileStore::append(Stream& s, const atf::WindowMeta& meta, std::span<const atf::EventView> events) {
  const std::uint64_t bound = window_size_bound(meta, events);
  if (s.writer_ && !s.writer_->usable()) close_file(s, false);  // a failed append left it unusable
  if (s.writer_ && rotate_at_ != 0 && s.writer_->windows_written() != 0 &&
      s.writer_->bytes_written() + bound > rotate_at_) {
    close_file(s, config_.fsync != FsyncPolicy::never);
    ++s.sequence_;
    DaemonStats::add(stats_.files_rotated);
  }
  // Room for the window, a new file's header, and the END record every open
  // file still has to write, so closing files never passes the quota.
  const std::uint64_t ends = kEndRecordSize * (open_.size() + (s.writer_ ? 0 : 1));
  if (!make_room(bound + ends + (s.writer_ ? 0 : kNewFileBound))) {
    DaemonStats::add(stats_.windows_dropped_quota);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_quota_report_ >= kReportEvery) {
      last_quota_report_ = now;
      spdlog::warn("{}: window of {} not written: output {} is at its quota ({} of {}) and every file left is "
                   "being written",
                   s.label_, format_size(bound), dir_.string(), format_size(usage_), format_size(quota_));
    }
    return false;
  }
  if (!s.writer_ && !open_file(s)) return false;

  atf::WindowMeta m = meta;
  m.window_id = s.writer_->windows_written();
  const std::uint64_t raw_before = s.writer_->raw_event_bytes();
  try {
    const std::uint64_t appended = s.writer_->append_window(m, events);
    set_usage(usage_ + appended);
    DaemonStats::add(stats_.file_bytes_written, appended);
    s.bytes_written_.fetch_add(appended, std::memory_order_relaxed);
    DaemonStats::add(stats_.event_bytes_raw, s.writer_->raw_event_bytes() - raw_before);
  } catch (const std::exception& e) {
    // The writer cut the file back to its last whole record (or, failing
    // that, refuses appends and the next window starts a new file).
    DaemonStats::add(stats_.write_errors);
    report_failure(s, e.what());
    return false;
  }
  if (s.failures_ != 0) {
    spdlog::info("{}: writing {} again after {} failed windows", s.label_, s.path_.string(), s.failures_);
    s.failures_ = 0;
  }
  if (config_.fsync == FsyncPolicy::window) {
    try {
      s.writer_->sync();
      DaemonStats::add(stats_.fsyncs);
    } catch (const std::exception& e) {
      DaemonStats::add(stats_.write_errors);
      spdlog::error("{}: {}", s.label_, e.what());
    }
  } else {
    s.dirty_ = true;
  }
  return true;
}

void FileStore::close(Stream& s) noexcept {
  // A stream without a file touches nothing of the store (its destructor may
  // run after the store's, which closed every open stream).
  if (!s.writer_) return;
  close_file(s, config_.fsync != FsyncPolicy::never);
}

void FileStore::sync_dirty() noexcept {
  if (config_.fsync != FsyncPolicy::interval) return;
  (void)sync_all();
}

std::uint32_t FileStore::sync_all() noexcept {
  std::uint32_t synced = 0;
  for (Stream* s : open_) {
    if (!s->dirty_ || !s->writer_ || !s->writer_->usable()) continue;
    s->dirty_ = false;
    try {
      s->writer_->sync();
      DaemonStats::add(stats_.fsyncs);
      ++synced;
    } catch (const std::exception& e) {
      DaemonStats::add(stats_.write_errors);
      spdlog::error("{}: {}", s->label_, e.what());
    }
  }
  return synced;
}

std::optional<std::chrono::nanoseconds> FileStore::sync_interval() const noexcept {
  if (config_.fsync != FsyncPolicy::interval) return std::nullopt;
  return std::chrono::nanoseconds(config_.fsync_interval_ns);
}

}  // namespace preroll::daemon
