#pragma once
/// WorkerPool: the one bounded pool every digest job of a process runs in, whoever asked for
/// it: the in-process queue (POST /), the event bus's worker route (POST /{topic}/{event}) and
/// the NATS queue's tasks of every kind (job, shard, merge: SubmitTask) alike. At most
/// `workers` jobs and tasks run at once (DIGEST_WORKERS), at most `capacity` more wait
/// (DIGEST_QUEUE_CAPACITY); beyond that Submit refuses, so the caller can answer 503 and the
/// client retry later. Nothing else in the process starts a job or a task.
///
/// Admission is decided in one place (the pool's lock): a job waits until a worker is free.
/// A per-job memory budget (issue 10's DIGEST_MEMORY_LIMIT) would be a second resource taken
/// there: a waiting job would start when a worker and its budget are both free.
///
/// Gauges (when `stats` is set), updated on every change: jobs_waiting, jobs_running,
/// worker_pool_saturation = (running + waiting) / (workers + capacity): 1 means Submit refuses.
///
/// Thread safety: every method may be called from any thread. `done` callbacks run on a worker
/// thread (or on the thread calling Shutdown, for handed-back jobs) without the pool's lock
/// held; they must not block for long.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "vpcflow/queuer.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct WorkerPoolOptions {
  int workers = 2;         ///< jobs run at once (at least 1)
  size_t capacity = 1024;  ///< jobs waiting at most (at least 1)
  Stats* stats = nullptr;  ///< not owned, may be null: where the gauges go
};

/// A snapshot of the pool's load.
struct WorkerPoolLoad {
  int workers = 0;
  size_t capacity = 0;
  int running = 0;
  size_t waiting = 0;
  /// No room for another job: every worker busy (or about to be) and `capacity` waiting.
  bool full() const {
    return static_cast<size_t>(running) + waiting >= static_cast<size_t>(workers) + capacity;
  }
};

class WorkerPool {
 public:
  /// Called once with the job's result.
  using Done = std::function<void(const Status& result)>;
  /// A unit of work other than a job (a shard or merge task of a sharded job), run with its
  /// worker thread's stop_token.
  using Task = std::function<Status(std::stop_token stop)>;

  explicit WorkerPool(WorkerPoolOptions options);
  /// Shutdown(0).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// The handler jobs run with (set before the first Submit). Each call gets its worker
  /// thread's stop_token, requested at Shutdown after the grace period. An exception escaping
  /// it is the result Internal.
  void SetHandler(JobHandler handler);

  /// Adds `job`; `done` (may be empty) is later called exactly once: with the handler's result,
  /// or Cancelled when Shutdown hands the job back before it started. Returns AlreadyExists
  /// when a job of the same id is waiting or running (it is not added twice: a bus delivering a
  /// job again is told at once), ResourceExhausted when the pool is full (Load().full():
  /// `workers` jobs running or about to, and `capacity` more waiting),
  /// FailedPrecondition without a handler or after Shutdown; `done` is then never called.
  [[nodiscard]] Status Submit(const Job& job, Done done = nullptr);
  /// As Submit, but a job of the same id as a running one is added, and starts only once that
  /// one ended: the caller asks for the job anew (POST / marked it after the running one's
  /// outcome was decided, e.g. its failure recorded), so it must not be taken for a redelivery
  /// and lost. AlreadyExists only when a job of the same id is waiting.
  [[nodiscard]] Status Resubmit(const Job& job, Done done = nullptr);
  /// Adds `task` (not empty), run by a worker like a job and counted with the jobs against
  /// `workers` and `capacity`; `done` as Submit's (Cancelled when Shutdown finds it waiting).
  /// Tasks are not told apart by id: the caller makes a second run of one harmless. Errors:
  /// ResourceExhausted, FailedPrecondition as Submit (a handler is not needed).
  [[nodiscard]] Status SubmitTask(Task task, Done done = nullptr);
  /// SubmitTask, then waits for the task's end: its result, or the error of SubmitTask.
  [[nodiscard]] Status RunTask(Task task);

  /// Stops taking jobs; hands back the waiting ones at once (their `done` gets Cancelled);
  /// gives running ones `grace_ms` to finish, then requests stop and joins the workers.
  /// Returns the jobs handed back (not the tasks). Idempotent (later calls return nothing).
  std::vector<Job> Shutdown(int64_t grace_ms);

  WorkerPoolLoad Load() const;
  /// "N workers, M waiting at most".
  std::string Describe() const;

 private:
  struct Entry {
    Job job{};
    Task task{};  // set: a task (job unused), run instead of the handler
    Done done{};
  };

  Status Add(Entry entry, bool behind_running);
  void Work(const std::stop_token& stop);
  void PublishLocked();

  const int workers_count_;
  const size_t capacity_;
  Stats* const stats_;
  std::mutex shutdown_mu_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::shared_ptr<const JobHandler> handler_;
  std::deque<Entry> waiting_;
  // Ids of the jobs waiting, and of those running (a job waits while one of its id runs).
  std::set<std::string, std::less<>> waiting_ids_;
  std::set<std::string, std::less<>> running_ids_;
  int running_ = 0;
  bool closed_ = false;
  std::vector<std::jthread> workers_;  // last: joined before the members above go
};

/// A Queuer over `pool` (not owned, must outlive it): Queue is Resubmit without a callback,
/// Shutdown is the pool's, SetHandler sets the pool's handler.
QueuerPtr NewWorkerPoolQueuer(WorkerPool* pool);

}  // namespace vpcflow
