// The persistence worker: a thread that drains clients' submit queues,
// applies the marking policy and writes kept windows. The io thread only
// queues work here, so socket handling never waits on disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>
#include <memory>
#include <mutex>
#include <thread>

#include "client_session.hpp"
#include "daemon_stats.hpp"
#include "marking_policy.hpp"
#include "storage/file_store.hpp"
#include "tsc_clock.hpp"

namespace preroll::daemon {

class PersistenceWorker {
 public:
  // `store` (may be null in tests) gets its periodic fdatasync from this thread.
  PersistenceWorker(const PolicyHolder& policy, DaemonStats& stats, FileStore* store = nullptr);
  ~PersistenceWorker();
  PersistenceWorker(const PersistenceWorker&) = delete;
  PersistenceWorker& operator=(const PersistenceWorker&) = delete;

  void start();
  // Queues a drain unless one is already queued for this client.
  void request_drain(const std::shared_ptr<ClientSession>& client);
  // Queues the client's final drain and salvage, then closes its file.
  void request_finalize(const std::shared_ptr<ClientSession>& client, atf::KeepReason reason);
  // Queues a manual snapshot: writes the client's held and active windows now.
  void request_snapshot(const std::shared_ptr<ClientSession>& client);
  // prerollctl flush: drains these clients, writes every marked event waiting
  // in their active rings, fdatasyncs the open files, then calls `done` (on
  // the worker thread) with {"clients": n, "windows_written": m, "files_synced": k}.
  void request_flush(std::vector<std::shared_ptr<ClientSession>> clients, std::function<void(nlohmann::json)> done);
  // Runs every queued task, then stops the thread.
  void stop();
  // Bumped by the worker before and after each task (and periodic sync): odd
  // while busy, even while waiting for work. The systemd watchdog reads it
  // to tell a stuck worker from an idle one. Relaxed: a liveness hint only.
  [[nodiscard]] std::uint64_t heartbeat() const noexcept { return heartbeat_.load(std::memory_order_relaxed); }

 private:
  struct Task {
    enum class Kind : std::uint8_t { drain, finalize, snapshot, flush };
    std::shared_ptr<ClientSession> client;
    Kind kind = Kind::drain;
    atf::KeepReason reason = atf::KeepReason::client_exit;
    std::vector<std::shared_ptr<ClientSession>> flush_clients;  // flush only
    std::function<void(nlohmann::json)> done;                   // flush only
  };
  void execute_flush(const Task& t);
  void push(Task t);
  void run();
  void execute(const Task& t);
  // After any task that read the client's segment: a segment found corrupt
  // is reported once, its file closed, and the client marked faulty for
  // the io thread to detach.
  void retire_if_faulty(ClientSession& c);

  // Loads the policy in force; a new one (reload) gets a new match scratch.
  const MarkingPolicy& current_policy();

  const PolicyHolder& holder_;
  std::shared_ptr<const MarkingPolicy> policy_;            // worker thread only
  std::unique_ptr<PatternMatcher::Scratch> scratch_;       // for policy_'s matcher
  DaemonStats& stats_;
  FileStore* store_;  // worker thread only
  TscClock clock_;  // worker thread only
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::thread thread_;
  std::atomic<std::uint64_t> heartbeat_{0};  // written by the worker thread only
};

}  // namespace preroll::daemon
