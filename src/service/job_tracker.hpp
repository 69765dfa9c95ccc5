#pragma once
/// JobTracker: the jobs this process queued or runs, and the writer of their shared state. The
/// service's (DESIGN.md, "Job state"): the job runner, the marker keeper and the queuer of this
/// process (TrackingQueuer) write it; the API reads only the shared JobStateStore.
///
/// Locally it knows which jobs this process holds (for the marker heartbeats and to tell a
/// redelivery of a job it runs already) and their progress. Every change is also written to the
/// JobStateStore (include/vpcflow/job_state.hpp) that /status reads, so a job run by any process
/// (this one, or a worker on another machine) shows its phase, progress and holder there;
/// progress is written at most once a second per job. Writes to the store are best effort: a
/// store that fails costs /status detail, never a job. The durable state lives in Storage and
/// Marker. Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "vpcflow/digest_summary.hpp"
#include "vpcflow/job_state.hpp"

namespace vpcflow {

struct TrackedJob {
  JobPhase phase = JobPhase::kQueued;
  DigestProgress progress;
};

class JobTracker {
 public:
  /// Progress is written to the store at most this often per job (and when complete).
  static constexpr int64_t kSharedProgressIntervalMs = 1000;

  /// Writes the shared state to `store` (not owned, must outlive the tracker); null = a
  /// memory store of its own.
  explicit JobTracker(JobStateStore* store = nullptr);
  /// Replaces the store (not owned; null = back to a memory store of its own). Only before the
  /// first other call (the service calls it at start, once the store is opened).
  void SetStore(JobStateStore* store);

  /// The job was queued by this process.
  void Queued(std::string_view id);
  /// A worker of this process starts it. Returns false (and changes nothing) when a worker of
  /// this process is running it already (a redelivery by the bus).
  bool StartRunning(std::string_view id);
  /// Progress of a running job (ignored when the job is not tracked).
  void Progress(std::string_view id, const DigestProgress& progress);
  /// The job ended (done, failed, cancelled) or was never queued after all.
  void Forget(std::string_view id);
  /// The job left this process but goes on elsewhere (its shards handed to other workers):
  /// forgotten here, its shared state kept (without this process's "digest" holder).
  void HandOff(std::string_view id);

  /// This process's view of a job it holds; nullopt when it holds none.
  std::optional<TrackedJob> Get(std::string_view id) const;
  /// Every tracked job's phase (the jobs this process holds).
  std::map<std::string, JobPhase> Phases() const;
  size_t queued() const;
  size_t running() const;

  JobStateStore* store() const { return store_; }

 private:
  struct Held {
    TrackedJob job;
    int64_t shared_progress_ms = 0;  // steady time of the last progress written to the store
  };
  size_t CountLocked(JobPhase phase) const;

  JobStateStorePtr own_store_;
  JobStateStore* store_;
  mutable std::mutex mu_;
  std::map<std::string, Held, std::less<>> jobs_;
};

}  // namespace vpcflow
