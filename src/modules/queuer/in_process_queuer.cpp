#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "vpcflow/queuer.hpp"

namespace vpcflow {
namespace {

class InProcessQueuer final : public Queuer {
 public:
  InProcessQueuer(int workers, size_t capacity)
      : workers_count_(std::max(workers, 1)), capacity_(std::max<size_t>(capacity, 1)) {
    workers_.reserve(static_cast<size_t>(workers_count_));
    for (int i = 0; i < workers_count_; ++i) {
      workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
    }
  }

  ~InProcessQueuer() override { Shutdown(0); }

  void SetHandler(JobHandler handler) override {
    std::lock_guard lock(mu_);
    handler_ = std::make_shared<const JobHandler>(std::move(handler));
  }

  Status Queue(const Job& job) override {
    std::lock_guard lock(mu_);
    if (closed_) return FailedPreconditionError("the job queue is shut down");
    if (handler_ == nullptr || !*handler_) {
      return FailedPreconditionError("the job queue has no handler");
    }
    if (waiting_.size() >= capacity_) {
      return ResourceExhaustedError("the job queue is full (" + std::to_string(capacity_) +
                                    " jobs waiting)");
    }
    waiting_.push_back(job);
    work_cv_.notify_one();
    return OkStatus();
  }

  std::vector<Job> Shutdown(int64_t grace_ms) override {
    std::lock_guard shutdown_lock(shutdown_mu_);
    std::vector<Job> unstarted;
    {
      std::unique_lock lock(mu_);
      if (closed_) return unstarted;
      closed_ = true;
      unstarted.assign(std::make_move_iterator(waiting_.begin()),
                       std::make_move_iterator(waiting_.end()));
      waiting_.clear();
      work_cv_.notify_all();
      idle_cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(grace_ms, 0)),
                        [this] { return running_ == 0; });
    }
    for (std::jthread& worker : workers_) worker.request_stop();
    for (std::jthread& worker : workers_) worker.join();
    return unstarted;
  }

  std::string Describe() const override {
    return "in-process (" + std::to_string(workers_count_) + " workers, " +
           std::to_string(capacity_) + " waiting at most)";
  }

 private:
  void Work(std::stop_token stop) {
    std::unique_lock lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [this] { return closed_ || !waiting_.empty(); });
      if (waiting_.empty()) return;
      Job job = std::move(waiting_.front());
      waiting_.pop_front();
      std::shared_ptr<const JobHandler> handler = handler_;
      ++running_;
      lock.unlock();
      try {
        (void)(*handler)(job, stop);
      } catch (...) {
        // The handler owns its error reporting; a throw must not kill the worker.
      }
      lock.lock();
      if (--running_ == 0) idle_cv_.notify_all();
    }
  }

  const int workers_count_;
  const size_t capacity_;
  std::mutex shutdown_mu_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::shared_ptr<const JobHandler> handler_;
  std::deque<Job> waiting_;
  int running_ = 0;
  bool closed_ = false;
  std::vector<std::jthread> workers_;  // last: joined before the members above go
};

}  // namespace

QueuerPtr NewInProcessQueuer(int workers, size_t capacity) {
  return std::make_unique<InProcessQueuer>(workers, capacity);
}

}  // namespace vpcflow
