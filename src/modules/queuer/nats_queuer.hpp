#pragma once
/// The NATS JetStream queue (DESIGN.md, "Scaling out"): DIGEST_QUEUE_URL=nats://... selects it.
///
/// Queue publishes the job (JobToJson) as a task on `subject` of the work-queue stream, with a
/// message id made once per Queue call, so the client's own retries of that publish never make
/// a second task. Consumer threads (the worker role) take one task each at a time from the one
/// durable pull consumer all workers share, run the handler (the service's job runner, in its
/// bounded pool) or, for tasks of other subjects, `task_handler` in `pool` (so one bound,
/// DIGEST_WORKERS, holds for every kind of task), and meanwhile send InProgress every
/// `heartbeat_ms` (less than AckWait), so a live worker keeps its task however long the job runs; a
/// killed worker's task comes back after AckWait to another worker. Outcome of a task: OK -> Ack;
/// Cancelled (shutdown) -> Nak at once, for another worker; InvalidArgument (a job that can never
/// run) -> Term; another failure -> Nak with a growing delay, and at the last delivery
/// (NATS_MAX_DELIVER) Term: the job runner has written the failure record, nothing stays in the
/// stream.
///
/// Thread-safe.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "modules/queuer/worker_pool.hpp"
#include "nats/work_queue.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {

struct NatsQueuerOptions {
  WorkQueueOptions queue{};                      ///< stream, consumer, AckWait, MaxDeliver
  std::string subject = "vpcflow.tasks.digest";  ///< under queue.subjects
  int consumers = 0;             ///< threads taking tasks; 0 = publish only (DIGEST_ROLE=api)
  int64_t heartbeat_ms = 0;      ///< InProgress interval; 0 = AckWait / 3
  int64_t fetch_wait_ms = 1000;  ///< how long one fetch waits for a task
  int64_t max_window_seconds = kDefaultMaxWindowSeconds;  ///< for JobFromJson
  Logger* logger = nullptr;  ///< task outcomes (not owned; null = none)
  /// Runs a task of any other subject (the shard and merge tasks of a sharded job), its
  /// `delivered`-th delivery, in `pool` (on the consumer thread when null), with the
  /// heartbeats and outcomes of a job task; `stop` is requested at the pool's or the queuer's
  /// shutdown. Unset: such tasks are terminated as invalid.
  std::function<Status(std::string_view subject, std::string_view data, uint64_t delivered,
                       std::stop_token stop)>
      task_handler{};
  /// Where task_handler runs (not owned; must outlive the queuer): the process's one pool,
  /// which the job handler also submits to. Null: on the consumer thread.
  WorkerPool* pool = nullptr;
};

/// The delay of the Nak after the `delivered`-th failed attempt: 1 s doubled each time, at
/// most AckWait (so a failing task never waits longer than a lost one).
int64_t NatsRetryDelayMs(uint64_t delivered, int64_t ack_wait_ms);

/// Opens the queue on `connection` (not owned; must outlive the queuer) and, when consumers >
/// 0, starts taking tasks once SetHandler was called. Errors: WorkQueue::Open's.
Result<QueuerPtr> NewNatsQueuer(NatsConnection* connection, NatsQueuerOptions options);
/// The same on a work queue opened by the caller (not owned; must outlive the queuer), which
/// may also publish on it (the shard tasks).
QueuerPtr NewNatsQueuer(NatsConnection* connection, WorkQueue* queue, NatsQueuerOptions options);

}  // namespace vpcflow
