#pragma once
/// JobRunner: runs one digest job from start to stored result (DESIGN.md, "Data flow").
///
/// For a job: if this process is running it already, or the digest is already stored (final,
/// or provisional with its window still settling), done (a bus may deliver a job twice). A
/// provisional digest whose window has settled since is made again and replaced. Otherwise claim
/// the marker (Marker::Claim: the job becomes "running", held by this process; a bus may deliver a
/// job whose marker was cleared, or one queued by another instance; a job another live instance
/// runs is left to it), plan it into shards and run them (PlanJob, RunPlannedJob: one in-memory
/// shard, or stored partials for a large job; the MarkerKeeper heartbeats the marker meanwhile:
/// the job is in the JobTracker), encode the flowlog digest through a gzip sink into a Storage
/// upload, commit it with the manifest, delete the job's partials, and remove the marker. On
/// failure the marker is replaced by a failure record (shown by /status; a new POST retries); on
/// cancellation (shutdown) the marker stays, so the next instance on these stores takes the job
/// over (its holder is gone). Every outcome is logged and counted.
///
/// Thread safety: Run may be called from many threads at once (one job each).

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "jobs/job_plan.hpp"
#include "service/job_tracker.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/queuer.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

/// What a runner uses. Nothing is owned; everything must outlive the runner.
struct JobRunnerDeps {
  ObjectSource* source = nullptr;
  Storage* storage = nullptr;
  Marker* marker = nullptr;
  Logger* logger = nullptr;
  Stats* stats = nullptr;
  Clock* clock = nullptr;
  JobTracker* tracker = nullptr;
  ScanOptions scan;
  int digest_threads = 0;                       ///< DigestOptions::threads
  uint64_t memory_limit = kDefaultMemoryLimit;  ///< DigestOptions::memory_limit, per job
  std::string spill_dir{};                      ///< DigestOptions::spill_dir (must exist)
  /// Jobs of more estimated text than this run as stored partials (LocalJobOptions).
  uint64_t in_memory_text_bytes = uint64_t{4} << 30;
  ShardOptions shards{};  ///< how PlanJob cuts a job
  /// DIGEST_SETTLE: a job planned less than this after its window's stop makes a provisional
  /// digest; a provisional digest stored is replaced by a job run after it (provisional.hpp).
  int64_t settle_seconds = kDefaultSettleSeconds;
  /// When set, a job of more estimated text than `in_memory_text_bytes` and more than one shard
  /// (on a storage that keeps partials) is handed off after planning (ShardedJobs::HandOff: shard
  /// tasks for other workers) instead of run here: OK -> the job leaves this process (its marker
  /// and shared state stay for the shard workers); an error ends the job as any failure does.
  /// `provisional` as planned.
  std::function<Status(const Job& job, const JobPlan& plan, bool provisional)> hand_off{};
};

/// How long each phase of a job took.
struct JobTimings {
  double digest_seconds = 0;  ///< RunDigest
  double store_seconds = 0;   ///< encode, gzip, upload and commit
  double total_seconds = 0;
};

/// The manifest stored beside a digest: {"id","window":{"start","stop"},"format":"flowlog",
/// "version","created","provisional","digest_bytes","rows","timings":{...},"summary":{...}}.
/// `provisional`: planned before the window settled (provisional.hpp).
std::string ManifestJson(const Job& job, const DigestSummary& summary, const JobTimings& timings,
                         uint64_t digest_bytes, int64_t created_unix_ms, bool provisional = false);

/// The failure record written with Marker::Fail: {"code","message","time"}.
std::string FailureJson(const Status& status, int64_t unix_ms);

class JobRunner {
 public:
  explicit JobRunner(JobRunnerDeps deps) : deps_(std::move(deps)) {}

  /// Runs `job`. Returns OK when the digest is stored (now or before) or another live instance
  /// runs it, Cancelled when `stop` fired, or the failure (the source's or the store's error).
  Status Run(const Job& job, const std::stop_token& stop);

  /// Encodes and stores the digest of `run` (flowlog gzip, rows sidecar when the store keeps
  /// one, the manifest); sets the store and total timings (since `t0_ms`, monotonic) and
  /// *digest_bytes. Errors: the storage's, with context "storage". Also the merge of a sharded
  /// job (ShardedJobs).
  Status Store(const Job& job, const DigestRun& run, bool provisional, JobTimings* timings,
               int64_t t0_ms, uint64_t* digest_bytes);
  const JobRunnerDeps& deps() const { return deps_; }

  /// Logs and counts a stored digest.
  void RecordSuccess(const Job& job, const DigestSummary& summary, const JobTimings& timings,
                     uint64_t digest_bytes);
  /// Ends a job as failed: the marker replaced by FailureJson (Fail, in one step), logged.
  void RecordFailure(const Job& job, const Status& st, int64_t duration_ms);

 private:
  JobRunnerDeps deps_;
};

}  // namespace vpcflow
