#include "modules/queuer/worker_pool.hpp"

#include <algorithm>
#include <chrono>
#include <future>

namespace vpcflow {

WorkerPool::WorkerPool(WorkerPoolOptions options)
    : workers_count_(std::max(options.workers, 1)),
      capacity_(std::max<size_t>(options.capacity, 1)),
      stats_(options.stats) {
  {
    std::lock_guard lock(mu_);
    PublishLocked();
  }
  workers_.reserve(static_cast<size_t>(workers_count_));
  for (int i = 0; i < workers_count_; ++i) {
    workers_.emplace_back([this](const std::stop_token& stop) { Work(stop); });
  }
}

WorkerPool::~WorkerPool() { Shutdown(0); }

void WorkerPool::SetHandler(JobHandler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::make_shared<const JobHandler>(std::move(handler));
}

Status WorkerPool::Submit(const Job& job, Done done) {
  return Add(Entry{.job = job, .done = std::move(done)}, /*behind_running=*/false);
}

Status WorkerPool::Resubmit(const Job& job, Done done) {
  return Add(Entry{.job = job, .done = std::move(done)}, /*behind_running=*/true);
}

Status WorkerPool::SubmitTask(Task task, Done done) {
  if (!task) return InvalidArgumentError("an empty task");
  return Add(Entry{.task = std::move(task), .done = std::move(done)}, /*behind_running=*/false);
}

Status WorkerPool::RunTask(Task task) {
  auto result = std::make_shared<std::promise<Status>>();
  std::future<Status> done = result->get_future();
  VPCFLOW_RETURN_IF_ERROR(
      SubmitTask(std::move(task), [result](const Status& st) { result->set_value(st); }));
  return done.get();
}

Status WorkerPool::Add(Entry entry, bool behind_running) {
  std::lock_guard lock(mu_);
  if (closed_) return FailedPreconditionError("the job queue is shut down");
  const Job& job = entry.job;
  if (!entry.task) {
    if (handler_ == nullptr || !*handler_) {
      return FailedPreconditionError("the job queue has no handler");
    }
    if (waiting_ids_.contains(job.id) || (!behind_running && running_ids_.contains(job.id))) {
      return AlreadyExistsError("digest " + job.id + " is already queued or running");
    }
  }
  // Counted with the running jobs: a job just submitted waits until a free worker wakes up.
  if (static_cast<size_t>(running_) + waiting_.size() >=
      static_cast<size_t>(workers_count_) + capacity_) {
    return ResourceExhaustedError("the job queue is full (" + std::to_string(running_) +
                                  " jobs running, " + std::to_string(waiting_.size()) +
                                  " waiting)");
  }
  if (!entry.task) waiting_ids_.insert(job.id);
  waiting_.push_back(std::move(entry));
  PublishLocked();
  work_cv_.notify_one();
  return OkStatus();
}

std::vector<Job> WorkerPool::Shutdown(int64_t grace_ms) {
  std::lock_guard shutdown_lock(shutdown_mu_);
  std::deque<Entry> unstarted;
  {
    std::unique_lock lock(mu_);
    if (closed_) return {};
    closed_ = true;
    unstarted.swap(waiting_);
    for (const Entry& entry : unstarted) {
      if (!entry.task) waiting_ids_.erase(entry.job.id);
    }
    PublishLocked();
    work_cv_.notify_all();
  }
  std::vector<Job> handed_back;
  for (Entry& entry : unstarted) {
    if (entry.done) entry.done(CancelledError("the service is shutting down"));
    if (!entry.task) handed_back.push_back(std::move(entry.job));
  }
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0)),
                      [this] { return running_ == 0; });
  }
  for (std::jthread& worker : workers_) worker.request_stop();
  for (std::jthread& worker : workers_) worker.join();
  return handed_back;
}

WorkerPoolLoad WorkerPool::Load() const {
  std::lock_guard lock(mu_);
  return {.workers = workers_count_,
          .capacity = capacity_,
          .running = running_,
          .waiting = waiting_.size()};
}

std::string WorkerPool::Describe() const {
  return std::to_string(workers_count_) + " workers, " + std::to_string(capacity_) +
         " waiting at most";
}

void WorkerPool::Work(const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    // The first waiting task, or job whose id is not running.
    auto next = waiting_.end();
    work_cv_.wait(lock, [this, &next] {
      next = std::find_if(waiting_.begin(), waiting_.end(), [this](const Entry& e) {
        return e.task || !running_ids_.contains(e.job.id);
      });
      return closed_ || next != waiting_.end();
    });
    if (next == waiting_.end()) return;  // closed
    Entry entry = std::move(*next);
    waiting_.erase(next);
    if (!entry.task) {
      waiting_ids_.erase(entry.job.id);
      running_ids_.insert(entry.job.id);
    }
    std::shared_ptr<const JobHandler> handler = handler_;
    ++running_;
    PublishLocked();
    lock.unlock();
    Status result;
    try {
      result = entry.task ? entry.task(stop) : (*handler)(entry.job, stop);
    } catch (const std::exception& e) {
      result = InternalError(std::string("the job handler threw: ") + e.what());
    } catch (...) {
      result = InternalError("the job handler threw");
    }
    lock.lock();
    if (!entry.task) running_ids_.erase(entry.job.id);
    --running_;
    PublishLocked();
    if (running_ == 0) idle_cv_.notify_all();
    work_cv_.notify_all();  // a job of this id may be waiting for it
    lock.unlock();
    if (entry.done) entry.done(result);
    entry.done = nullptr;  // what it holds goes now, before the pool is seen idle
    entry.task = nullptr;
    lock.lock();
  }
}

void WorkerPool::PublishLocked() {
  if (stats_ == nullptr) return;
  stats_->Gauge("jobs_waiting", static_cast<double>(waiting_.size()));
  stats_->Gauge("jobs_running", static_cast<double>(running_));
  stats_->Gauge("worker_pool_saturation",
                static_cast<double>(static_cast<size_t>(running_) + waiting_.size()) /
                    static_cast<double>(static_cast<size_t>(workers_count_) + capacity_));
}

}  // namespace vpcflow
