#pragma once
/// JobTracker: what this process knows about the jobs it queued or runs, for /status and for
/// the running/queued gauges. The durable state lives in Storage and Marker; this only adds
/// what they cannot say (queued versus running, progress). Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "vpcflow/digest.hpp"

namespace vpcflow {

enum class JobPhase { kQueued, kRunning };

struct TrackedJob {
  JobPhase phase = JobPhase::kQueued;
  DigestProgress progress;
};

class JobTracker {
 public:
  /// The job was queued by this process.
  void Queued(std::string_view id);
  /// A worker of this process starts it. Returns false (and changes nothing) when a worker of
  /// this process is running it already (a redelivery by the bus).
  bool StartRunning(std::string_view id);
  /// Progress of a running job (ignored when the job is not tracked).
  void Progress(std::string_view id, const DigestProgress& progress);
  /// The job ended (done, failed, cancelled) or was never queued after all.
  void Forget(std::string_view id);

  std::optional<TrackedJob> Get(std::string_view id) const;
  /// Every tracked job's phase (the jobs this process holds).
  std::map<std::string, JobPhase> Phases() const;
  size_t queued() const;
  size_t running() const;

 private:
  size_t CountLocked(JobPhase phase) const;

  mutable std::mutex mu_;
  std::map<std::string, TrackedJob, std::less<>> jobs_;
};

}  // namespace vpcflow
