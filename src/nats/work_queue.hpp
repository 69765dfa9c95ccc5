#pragma once
/// WorkQueue: a JetStream work-queue stream with one durable pull consumer shared by every
/// worker (../shared/docs/SCALE.md): each task goes to one worker at a time, is redelivered
/// after AckWait when that worker neither acks nor sends InProgress, and after MaxDeliver
/// deliveries is delivered no more (the last attempt records the failure and Terms it).
///
/// Thread-safe: Publish from any thread; Fetch serialises its callers; a TaskMessage may be
/// acknowledged from any thread, once.

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nats/nats_connection.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct WorkQueueOptions {
  std::string stream = "VPCFLOW_TASKS";      ///< stream name ([A-Za-z0-9_-])
  std::string subjects = "vpcflow.tasks.>";  ///< the stream's subject filter
  std::string durable = "vpcflow-workers";   ///< the one pull consumer's durable name
  int64_t ack_wait_ms = 30000;               ///< NATS_ACK_WAIT
  int64_t max_deliver = 5;                   ///< NATS_MAX_DELIVER (at least 1)
};

/// One delivered task. Owns its message; destroying it without an acknowledgement leaves the
/// task to be redelivered after AckWait.
class TaskMessage {
 public:
  explicit TaskMessage(natsMsg* msg);
  ~TaskMessage();
  TaskMessage(const TaskMessage&) = delete;
  TaskMessage& operator=(const TaskMessage&) = delete;

  std::string_view subject() const;
  std::string_view data() const;
  /// How many times this task was delivered (1 = the first time); 0 when unknown.
  uint64_t delivered() const { return delivered_; }

  /// Resets AckWait: "still working on it". Unavailable when the server cannot be reached.
  [[nodiscard]] Status InProgress();
  /// Done: the task leaves the stream (waits for the server's confirmation).
  [[nodiscard]] Status Ack();
  /// Not done: deliver it again after `delay_ms` (0 = at once).
  [[nodiscard]] Status Nak(int64_t delay_ms);
  /// Never deliver it again (it leaves a work-queue stream).
  [[nodiscard]] Status Term();

 private:
  natsMsg* msg_;
  uint64_t delivered_ = 0;
};
using TaskMessagePtr = std::unique_ptr<TaskMessage>;

class WorkQueue {
 public:
  /// Creates the stream (work-queue retention, file storage) and the durable pull consumer
  /// (explicit acks, `ack_wait_ms`, `max_deliver`) when missing, and subscribes to it.
  /// Existing ones are used as they are (their settings may differ: the first creator's win).
  /// `connection` is not owned and must outlive the queue. Errors: Unavailable (server away,
  /// JetStream not answering), FailedPrecondition (JetStream not enabled), InvalidArgument.
  static Result<std::unique_ptr<WorkQueue>> Open(NatsConnection* connection,
                                                 WorkQueueOptions options);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// Publishes `data` on `subject` (under the stream's subjects) with the message id `msg_id`:
  /// a second publish of one id within the duplicate window (2 min) stores nothing. Returns
  /// true when it was such a duplicate. Waits for the server's ack: Unavailable when the server
  /// cannot be reached or did not answer in time.
  [[nodiscard]] Result<bool> Publish(std::string_view subject, std::string_view data,
                                     std::string_view msg_id);
  /// Up to `batch` tasks, waiting at most `timeout_ms` for the first; an empty vector when
  /// none came. Unavailable while disconnected.
  [[nodiscard]] Result<std::vector<TaskMessagePtr>> Fetch(int batch, int64_t timeout_ms);
  /// Tasks waiting in the stream (not yet acked or termed): for tests and /metrics.
  [[nodiscard]] Result<uint64_t> Pending();

  const WorkQueueOptions& options() const { return options_; }

 private:
  WorkQueue(NatsConnection* connection, WorkQueueOptions options, natsSubscription* sub)
      : connection_(connection), options_(std::move(options)), sub_(sub) {}

  NatsConnection* connection_;
  WorkQueueOptions options_;
  std::mutex fetch_mu_;
  natsSubscription* sub_;
};

}  // namespace vpcflow
