#include "persistence_worker.hpp"

#include <spdlog/spdlog.h>

#include "preroll/shm/tsc.hpp"

namespace preroll::daemon {

PersistenceWorker::PersistenceWorker(const PolicyHolder& policy, DaemonStats& stats, FileStore* store)
    : holder_(policy), stats_(stats), store_(store) {}

const MarkingPolicy& PersistenceWorker::current_policy() {
  auto p = holder_.load();
  if (p != policy_) {
    // Allocate the new scratch before dropping the old policy: a window in
    // flight never sees a half-swapped pair.
    std::unique_ptr<PatternMatcher::Scratch> s = p->matcher() ? p->matcher()->make_scratch() : nullptr;
    policy_ = std::move(p);
    scratch_ = std::move(s);
  }
  return *policy_;
}

PersistenceWorker::~PersistenceWorker() { stop(); }

void PersistenceWorker::start() { thread_ = std::thread([this] { run(); }); }

void PersistenceWorker::request_drain(const std::shared_ptr<ClientSession>& client) {
  if (client->drain_queued.exchange(true, std::memory_order_acq_rel)) return;
  push({client, Task::Kind::drain, {}, {}, {}});
}

void PersistenceWorker::request_finalize(const std::shared_ptr<ClientSession>& client, atf::KeepReason reason) {
  push({client, Task::Kind::finalize, reason, {}, {}});
}

void PersistenceWorker::request_snapshot(const std::shared_ptr<ClientSession>& client) {
  push({client, Task::Kind::snapshot, atf::KeepReason::manual_snapshot, {}, {}});
}

void PersistenceWorker::request_flush(std::vector<std::shared_ptr<ClientSession>> clients,
                                      std::function<void(nlohmann::json)> done) {
  Task t;
  t.kind = Task::Kind::flush;
  t.flush_clients = std::move(clients);
  t.done = std::move(done);
  push(std::move(t));
}

void PersistenceWorker::push(Task t) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(t));
  }
  cv_.notify_one();
}

void PersistenceWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PersistenceWorker::run() {
  // --fsync interval: the files are synced from this thread, between tasks,
  // so a sync never races an append.
  const auto interval = store_ ? store_->sync_interval() : std::nullopt;
  const bool periodic = interval.has_value();
  const std::chrono::nanoseconds period = periodic ? *interval : std::chrono::hours(1);
  auto next_sync = std::chrono::steady_clock::now() + period;
  for (;;) {
    Task t;
    bool have_task = false;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return stopping_ || !tasks_.empty(); };
      if (periodic) cv_.wait_until(lock, next_sync, ready);
      else cv_.wait(lock, ready);
      if (stopping_ && tasks_.empty()) return;  // everything queued is done
      if (!tasks_.empty()) {
        t = std::move(tasks_.front());
        tasks_.pop_front();
        have_task = true;
      }
    }
    heartbeat_.fetch_add(1, std::memory_order_relaxed);  // odd: busy
    if (have_task) execute(t);
    if (periodic && std::chrono::steady_clock::now() >= next_sync) {
      store_->sync_dirty();
      next_sync = std::chrono::steady_clock::now() + period;
    }
    heartbeat_.fetch_add(1, std::memory_order_relaxed);  // even: idle again
  }
}

void PersistenceWorker::execute_flush(const Task& t) {
  const std::uint64_t before = stats_.windows_persisted.load(std::memory_order_relaxed);
  const MarkingPolicy& policy = current_policy();
  const DrainContext ctx{policy, scratch_.get(), stats_, clock_};
  std::uint32_t flushed = 0;
  for (const auto& client : t.flush_clients) {
    ClientSession& c = *client;
    if (c.finished.load(std::memory_order_relaxed)) continue;
    try {
      c.segment.drain(c.sink, ctx);
      c.segment.flush_waiting_marks(c.sink, ctx, shm::monotonic_now_ns(), /*force=*/true);
      c.segment.publish_capture(stats_);
      retire_if_faulty(c);
      ++flushed;
    } catch (const std::exception& e) {
      spdlog::error("pid {} ({}): flush failed: {}", c.identity.pid, c.identity.process_name, e.what());
    }
  }
  const std::uint32_t synced = store_ ? store_->sync_all() : 0;
  if (t.done)
    t.done({{"clients", flushed},
            {"windows_written", stats_.windows_persisted.load(std::memory_order_relaxed) - before},
            {"files_synced", synced}});
}

void PersistenceWorker::retire_if_faulty(ClientSession& c) {
  if (!c.segment.faulty() || c.finished.load(std::memory_order_relaxed)) return;
  spdlog::error("pid {} ({}): corrupt segment, client detached from persistence: {}", c.identity.pid,
                c.identity.process_name, c.segment.fault());
  c.sink.close();
  c.finished.store(true, std::memory_order_relaxed);
  DaemonStats::add(stats_.clients_detached_total);
  // Before this fix a faulty client stayed connected and counted in
  // clients_current forever (issue #9): the io thread now closes it.
  c.faulty.store(true, std::memory_order_release);
}

void PersistenceWorker::execute(const Task& t) {
  if (t.kind == Task::Kind::flush) {
    clock_.refresh();
    execute_flush(t);
    return;
  }
  ClientSession& c = *t.client;
  if (c.finished.load(std::memory_order_relaxed)) return;
  clock_.refresh();
  // One policy per task: a reload takes effect at the next task, never in
  // the middle of a window.
  const MarkingPolicy& policy = current_policy();
  const DrainContext ctx{policy, scratch_.get(), stats_, clock_};
  // Exceptions stop at the session: one client's failure never takes the
  // worker (and every other client) down.
  try {
    if (t.kind == Task::Kind::snapshot) {
      c.segment.snapshot(c.sink, ctx);
      retire_if_faulty(c);
      return;
    }
    if (t.kind == Task::Kind::drain) {
      c.drain_queued.store(false, std::memory_order_release);
      c.segment.drain(c.sink, ctx);
      c.segment.flush_waiting_marks(c.sink, ctx, shm::monotonic_now_ns());
      c.segment.publish_capture(stats_);
      if (c.segment.arm_doorbell()) request_drain(t.client);  // rings arrived while we worked
      retire_if_faulty(c);
      return;
    }
    c.segment.finalize(c.sink, ctx, t.reason);
    c.segment.publish_capture(stats_);
    if (c.segment.faulty())
      spdlog::error("pid {} ({}): corrupt segment: {}", c.identity.pid, c.identity.process_name, c.segment.fault());
    c.sink.close();
    c.finished.store(true, std::memory_order_relaxed);
    DaemonStats::add(stats_.clients_detached_total);
    spdlog::info("pid {} ({}): detached ({})", c.identity.pid, c.identity.process_name, atf::to_string(t.reason));
  } catch (const std::exception& e) {
    spdlog::error("pid {} ({}): persistence failed: {}", c.identity.pid, c.identity.process_name, e.what());
    c.finished.store(true, std::memory_order_relaxed);
    DaemonStats::add(stats_.clients_detached_total);
  }
}

}  // namespace preroll::daemon
