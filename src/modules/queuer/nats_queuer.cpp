#include "modules/queuer/nats_queuer.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "modules/marker/mark_record.hpp"

namespace vpcflow {
namespace {

class NatsQueuer final : public Queuer {
 public:
  NatsQueuer(NatsConnection* connection, std::unique_ptr<WorkQueue> owned, WorkQueue* queue,
             NatsQueuerOptions options)
      : connection_(connection),
        owned_(std::move(owned)),
        queue_(queue),
        options_(std::move(options)) {
    if (options_.heartbeat_ms <= 0) options_.heartbeat_ms = options_.queue.ack_wait_ms / 3;
    if (options_.heartbeat_ms <= 0) options_.heartbeat_ms = 1;
  }
  ~NatsQueuer() override { (void)Shutdown(0); }

  void SetHandler(JobHandler handler) override {
    std::lock_guard lock(mu_);
    if (started_ || options_.consumers <= 0) return;
    handler_ = std::move(handler);
    started_ = true;
    heartbeat_ = std::jthread([this](const std::stop_token& stop) { Heartbeats(stop); });
    for (int i = 0; i < options_.consumers; ++i) {
      consumers_.emplace_back([this] { Consume(); });
    }
  }

  Status Queue(const Job& job) override {
    if (stopping_) return FailedPreconditionError("the NATS queue is shut down");
    // One id per Queue call: a POST after a failure is a new task, a retried publish is not.
    const std::string msg_id = job.id + "." + NewInstanceId();
    Result<bool> published = queue_->Publish(options_.subject, JobToJson(job), msg_id);
    if (!published.ok()) return published.status();
    return OkStatus();
  }

  std::vector<Job> Shutdown(int64_t grace_ms) override {
    {
      std::unique_lock lock(mu_);
      if (stopping_.exchange(true) && consumers_.empty()) return {};
      wake_.notify_all();
      // Running jobs get the grace period, then are asked to stop (their tasks are Nak'ed).
      idle_.wait_for(lock, std::chrono::milliseconds(grace_ms), [this] { return running_ == 0; });
    }
    stop_.request_stop();
    for (std::thread& t : consumers_) t.join();
    consumers_.clear();
    heartbeat_ = {};
    return {};  // every job not finished is still in the stream, for another worker
  }

  std::string Describe() const override {
    return "nats " + connection_->Describe() + " stream " + options_.queue.stream + " consumer " +
           options_.queue.durable;
  }

 private:
  void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
    if (options_.logger != nullptr) options_.logger->Log(level, event, fields);
  }

  void Consume() {
    bool reported = false;
    while (!stopping_) {
      Result<std::vector<TaskMessagePtr>> got = queue_->Fetch(1, options_.fetch_wait_ms);
      if (!got.ok()) {
        // The server is away: the client reconnects by itself; say so once, then wait.
        if (!reported) {
          Log(LogLevel::kWarn, "queue-unavailable", {{"reason", got.status().message()}});
          reported = true;
        }
        std::unique_lock lock(mu_);
        wake_.wait_for(lock, std::chrono::milliseconds(options_.fetch_wait_ms),
                       [this] { return stopping_.load(); });
        continue;
      }
      reported = false;
      for (TaskMessagePtr& task : *got) Run(std::move(task));
    }
  }

  void Run(TaskMessagePtr task) {
    // The job task (JobToJson), or another kind of task (its subject) for task_handler.
    const bool job_task = task->subject() == options_.subject;
    Result<Job> job = job_task ? JobFromJson(task->data(), options_.max_window_seconds)
                               : Result<Job>(Job{.id = std::string(task->subject())});
    if (!job.ok() || (!job_task && !options_.task_handler)) {
      Log(LogLevel::kError, "task-invalid",
          {{"subject", task->subject()},
           {"reason", job.ok() ? "no handler for the subject" : job.status().message()}});
      (void)task->Term();
      return;
    }
    TaskMessage* raw = task.get();
    {
      std::lock_guard lock(mu_);
      held_.insert(raw);
      ++running_;
    }
    Status st = job_task ? handler_(*job, stop_.get_token()) : RunOther(*task);
    {
      std::lock_guard lock(mu_);
      held_.erase(raw);
      --running_;
      idle_.notify_all();
    }
    Status settled;
    const uint64_t delivered = task->delivered();
    if (st.ok()) {
      settled = task->Ack();
    } else if (st.code() == StatusCode::kCancelled) {
      settled = task->Nak(0);
    } else if (st.code() == StatusCode::kInvalidArgument ||
               delivered >= static_cast<uint64_t>(options_.queue.max_deliver)) {
      Log(LogLevel::kError, "task-terminated",
          {{"id", job->id}, {"deliveries", delivered}, {"reason", st.ToString()}});
      settled = task->Term();
    } else {
      settled = task->Nak(NatsRetryDelayMs(delivered, options_.queue.ack_wait_ms));
    }
    if (!settled.ok()) {
      // The task comes back after AckWait; the job runner sees the stored digest then.
      Log(LogLevel::kWarn, "queue-unavailable", {{"id", job->id}, {"reason", settled.message()}});
    }
  }

  // A task of another subject: in the pool (its bound holds for every task), stopped at the
  // pool's shutdown or this queuer's, whichever comes first.
  Status RunOther(const TaskMessage& task) {
    auto run = [&](const std::stop_token& pool_stop) {
      std::stop_source stop;
      std::stop_callback on_pool(pool_stop, [&] { stop.request_stop(); });
      std::stop_callback on_queuer(stop_.get_token(), [&] { stop.request_stop(); });
      return options_.task_handler(task.subject(), task.data(), task.delivered(), stop.get_token());
    };
    if (options_.pool == nullptr) return run(std::stop_token());
    return options_.pool->RunTask(run);
  }

  void Heartbeats(const std::stop_token& stop) {
    std::unique_lock lock(mu_);
    while (!stop.stop_requested()) {
      wake_.wait_for(lock, stop, std::chrono::milliseconds(options_.heartbeat_ms),
                     [] { return false; });
      for (TaskMessage* task : held_) (void)task->InProgress();
    }
  }

  NatsConnection* connection_;
  std::unique_ptr<WorkQueue> owned_;
  WorkQueue* queue_;
  NatsQueuerOptions options_;
  JobHandler handler_;
  std::stop_source stop_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable_any wake_;
  std::condition_variable_any idle_;
  bool started_ = false;
  int running_ = 0;
  std::set<TaskMessage*> held_;
  std::vector<std::thread> consumers_;
  std::jthread heartbeat_;
};

}  // namespace

int64_t NatsRetryDelayMs(uint64_t delivered, int64_t ack_wait_ms) {
  int64_t delay = 1000;
  for (uint64_t i = 1; i < delivered && delay < ack_wait_ms; ++i) delay *= 2;
  return std::min(delay, std::max<int64_t>(ack_wait_ms, 1));
}

Result<QueuerPtr> NewNatsQueuer(NatsConnection* connection, NatsQueuerOptions options) {
  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<WorkQueue> queue,
                           WorkQueue::Open(connection, options.queue));
  WorkQueue* raw = queue.get();
  return QueuerPtr(
      std::make_unique<NatsQueuer>(connection, std::move(queue), raw, std::move(options)));
}

QueuerPtr NewNatsQueuer(NatsConnection* connection, WorkQueue* queue, NatsQueuerOptions options) {
  options.queue = queue->options();
  return std::make_unique<NatsQueuer>(connection, nullptr, queue, std::move(options));
}

}  // namespace vpcflow
