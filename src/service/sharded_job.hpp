#pragma once
/// ShardedJobs: one digest split into shard tasks over many workers on a shared task queue
/// (issue 10, DESIGN.md "Scaling out": the task flow).
///
///  - Plan task (the job task; JobRunner runs it up to PlanJob and calls HandOff for a job too
///    large for one task): the plan is stored beside the partials (partial kPlanPartialName,
///    JobPlanToJson), the job's shard ledger is created (key = digest id: a plan id made once,
///    shards total, names done, provisional), and one shard task is published per shard not
///    yet done, msg id `<id>.<plan id>.shard.<name>` (a re-run plan, or a retried publish,
///    makes no second task; a new plan of the same job after it ended does). When the
///    ledger already exists (the plan task redelivered, or the job re-queued by crash recovery)
///    the stored plan is used, not a new listing.
///  - Shard task (ShardTaskToJson; the job id is DigestId of its window): RunShard into
///    Storage::BeginPartial(id, ShardPartialName(plan id, name)) ... Commit (a shard done
///    twice overwrites its partial),
///    then the shard's name is added to the ledger by compare-and-set; whoever finds every
///    shard done publishes the merge task (msg id `<id>.<plan id>.merge`). A shard whose job
///    has no ledger (ended: stored or failed), or a ledger of another plan, is dropped; one
///    that finds so only after storing its partial deletes that partial.
///  - Merge task (JobToJson): the stored plan, every shard's partial, MergePartials, then the
///    job runner's Store (digest, rows sidecar, manifest), DeletePartials (the plan too), the
///    ledger, the marker and the shared job state removed. A merge whose digest is stored
///    already only cleans up.
///  - Failures: a task's error is returned (the queue redelivers it); at its last delivery
///    (`max_deliver`) the job ends as failed as JobRunner ends it: Marker::Fail with
///    FailureJson, partials and ledger deleted. Cancelled leaves everything for a redelivery.
///  - /status: the shared JobState gets shards_total / shards_done and holders "shard/<name>",
///    "merge" -> this worker while it holds them.
///
/// Thread-safe: tasks of one job may run at once on any number of threads and processes.

#include <cstdint>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>

#include "jobs/job_plan.hpp"
#include "nats/kv_bucket.hpp"
#include "nats/work_queue.hpp"
#include "service/job_runner.hpp"
#include "vpcflow/job_state.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {

inline constexpr std::string_view kShardTaskSubject = "vpcflow.tasks.shard";
inline constexpr std::string_view kMergeTaskSubject = "vpcflow.tasks.merge";
/// The partial holding a sharded job's plan (shard names never take it).
inline constexpr std::string_view kPlanPartialName = "plan";

/// One value of a key-value store with compare-and-set (KvBucket's semantics).
struct LedgerEntry {
  std::string value{};
  uint64_t revision = 0;
};

/// Where shard ledgers live: a JetStream key-value bucket (NewKvLedgerStore in service.cpp's
/// wiring), or a fake in unit tests. Errors as KvBucket's: NotFound (no value), AlreadyExists
/// (Create of a key with a value), FailedPrecondition (Update lost a compare-and-set),
/// Unavailable. Thread-safe.
class LedgerStore {
 public:
  virtual ~LedgerStore() = default;
  [[nodiscard]] virtual Result<LedgerEntry> Get(std::string_view key) = 0;
  [[nodiscard]] virtual Result<uint64_t> Create(std::string_view key, std::string_view value) = 0;
  [[nodiscard]] virtual Result<uint64_t> Update(std::string_view key, std::string_view value,
                                                uint64_t revision) = 0;
  [[nodiscard]] virtual Status Delete(std::string_view key) = 0;
};

/// Publishes a task with a message id (a second publish of one id is not a second task).
/// Unavailable when the queue cannot be reached. Thread-safe.
class TaskPublisher {
 public:
  virtual ~TaskPublisher() = default;
  [[nodiscard]] virtual Status Publish(std::string_view subject, std::string_view data,
                                       std::string_view msg_id) = 0;
};

/// The ledgers in a JetStream key-value bucket (not owned; must outlive the store).
std::unique_ptr<LedgerStore> NewKvLedgerStore(KvBucket* bucket);
/// Publishes on a work queue (not owned; must outlive the publisher).
std::unique_ptr<TaskPublisher> NewWorkQueuePublisher(WorkQueue* queue);

/// A job's shard ledger: {"plan":"<plan id>","total":N,"done":[names],"provisional":bool}.
struct ShardLedger {
  /// Made once per plan: in the tasks' message ids, so a job planned again (after a failure,
  /// or to replace a provisional digest) within JetStream's duplicate window gets its tasks.
  std::string plan_id{};
  int64_t total = 0;
  std::set<std::string> done{};
  bool provisional = false;  ///< planned before the window settled (the manifest says so)
};
std::string ShardLedgerToJson(const ShardLedger& ledger);
/// InvalidArgument for anything else.
Result<ShardLedger> ShardLedgerFromJson(std::string_view json);

/// The partial of shard `shard` of plan `plan_id`: `<plan id>.<shard>` (`<shard>` for a task
/// naming no plan). Named by its plan, a partial written late by a task of an earlier plan of
/// the job never replaces, nor is merged as, the current plan's.
std::string ShardPartialName(std::string_view plan_id, std::string_view shard);

/// How long a shard ledger lives after its last change (the bucket's TTL): 4 x MaxDeliver x
/// AckWait, at least an hour. A ledger untouched that long belongs to a job nobody works on
/// (every delivery of its tasks used up by workers that died); it goes, and the job's marker,
/// gone stale, makes the marker keeper queue the job again, planned anew. A live job touches
/// its ledger at every shard done, so only a single shard running longer than this is planned
/// again (its work is lost, not its result: the new plan redoes it).
inline constexpr int64_t kMinShardLedgerTtlMs = int64_t{3600} * 1000;
int64_t ShardLedgerTtlMs(int64_t ack_wait_ms, int64_t max_deliver);

/// What the coordinator uses besides the job runner's deps (source, storage, marker, logger,
/// stats, clock, threads, memory limit, spill directory); nothing owned, everything must
/// outlive it.
struct ShardedJobDeps {
  JobRunner* runner = nullptr;      ///< its deps, Store / RecordSuccess / RecordFailure
  JobStateStore* states = nullptr;  ///< what /status shows (shards, holders)
  LedgerStore* ledger = nullptr;
  TaskPublisher* publisher = nullptr;
  int64_t max_deliver = 5;           ///< a task's last delivery ends its job as failed
  int64_t marker_refresh_ms = 1000;  ///< a shard refreshes the job's marker this often
  int64_t max_window_seconds = kDefaultMaxWindowSeconds;
};

class ShardedJobs {
 public:
  explicit ShardedJobs(ShardedJobDeps deps) : deps_(deps) {}

  /// The plan task's end: stores the plan, creates the ledger, publishes the shard tasks (or
  /// the merge task when every shard is done already). Errors: the storage's (context
  /// "partial plan"), the ledger's and the publisher's; a stored plan that does not parse.
  Status HandOff(const Job& job, const JobPlan& plan, bool provisional);

  /// Runs a task of subject kShardTaskSubject or kMergeTaskSubject, its `delivered`-th
  /// delivery. OK: acknowledge it. InvalidArgument: a task that can never run (terminate it).
  /// Cancelled: `stop` fired (deliver it again). Another error: deliver it again; at the
  /// last delivery the job was ended as failed.
  Status RunTask(std::string_view subject, std::string_view data, uint64_t delivered,
                 const std::stop_token& stop);

 private:
  Status RunShardTask(std::string_view data, uint64_t delivered, std::stop_token stop);
  Status RunMergeTask(std::string_view data, uint64_t delivered, std::stop_token stop);
  Status Merge(const Job& job, const ShardLedger& ledger, std::stop_token stop);
  // Adds `name` to the ledger of `id` (compare-and-set) when it is still plan `plan_id`'s;
  // sets *ended when the job has no ledger any more, or one of another plan.
  Status RecordDone(std::string_view id, std::string_view plan_id, const std::string& name,
                    ShardLedger* ledger, bool* ended);
  Status PublishShards(const Job& job, const JobPlan& plan, const ShardLedger& ledger);
  Status PublishMerge(const Job& job, const ShardLedger& ledger);
  Result<JobPlan> LoadPlan(std::string_view id);
  // The task's holder in the shared state ("" = none), and shards_done.
  void SetHolder(std::string_view id, const std::string& task, bool holding);
  // Ends the job as failed when this was the task's last delivery; returns `st`.
  Status MaybeFail(const Job& job, Status st, uint64_t delivered);
  void Cleanup(std::string_view id);

  ShardedJobDeps deps_;
};

}  // namespace vpcflow
