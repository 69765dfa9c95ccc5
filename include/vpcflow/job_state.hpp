#pragma once
/// JobStateStore: what /status says about a job while it is queued or runs, kept where every
/// process of the service can read it (DESIGN.md, "Job state"). With one process the in-memory
/// store is enough; with workers on other machines (the NATS queue) it is a JetStream key-value
/// bucket, so the API process shows the progress, shards and holders of jobs it does not run.
///
/// The durable facts stay in Storage (the digest) and Marker (in progress, failed); this store
/// adds what they cannot say: the phase, progress, shards done / total, which worker holds which
/// task, and the reason of a failure while the job is still being wound up. An entry is removed
/// when its job ends. Implementations must be thread-safe, and Update atomic across every
/// process sharing the store: concurrent Updates of one job are applied one after the other,
/// none lost.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "vpcflow/digest_summary.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Where a job is (the /status "state" of a live job).
enum class JobPhase {
  kQueued,   ///< accepted, waiting for a worker
  kRunning,  ///< being digested (planned, shards running, or merging)
};

struct JobState {
  JobPhase phase = JobPhase::kQueued;
  DigestProgress progress{};  ///< objects and bytes read so far (of every shard)
  int64_t shards_total = 0;   ///< shards planned (0 = not split into shards, or not planned yet)
  int64_t shards_done = 0;    ///< shards whose partial is stored
  /// Which worker holds which task now: task ("digest", "plan", "shard/<name>", "merge") ->
  /// worker ("<host>/<pid>"). A task leaves the map when it ends.
  std::map<std::string, std::string> holders{};
  std::string failure{};        ///< why the job failed ("" while it has not)
  int64_t updated_unix_ms = 0;  ///< set by the store at each Update
  friend bool operator==(const JobState& a, const JobState& b) {
    const DigestProgress& p = a.progress;
    const DigestProgress& q = b.progress;
    return a.phase == b.phase && p.objects_done == q.objects_done &&
           p.objects_total == q.objects_total && p.bytes_done == q.bytes_done &&
           p.bytes_total == q.bytes_total && a.shards_total == b.shards_total &&
           a.shards_done == b.shards_done && a.holders == b.holders && a.failure == b.failure &&
           a.updated_unix_ms == b.updated_unix_ms;
  }
};

/// The worker name of this process in JobState::holders: "<host>/<pid>".
std::string ThisWorkerName();

class JobStateStore {
 public:
  virtual ~JobStateStore() = default;
  JobStateStore() = default;
  JobStateStore(const JobStateStore&) = delete;
  JobStateStore& operator=(const JobStateStore&) = delete;

  /// The job's state. NotFound when the store has none (never queued, or ended).
  [[nodiscard]] virtual Result<JobState> Get(std::string_view id) = 0;
  /// Atomically reads the job's state (a default JobState when it has none), applies `change`
  /// and writes the result, stamped with the time: compare-and-set, re-run on a concurrent
  /// change, so `change` may be called more than once and must only touch the state it is
  /// given. When `change` returns an error nothing is written and that error is returned.
  /// Returns the state written. Unavailable when the store cannot be reached.
  [[nodiscard]] virtual Result<JobState> Update(std::string_view id,
                                                const std::function<Status(JobState&)>& change) = 0;
  /// Forgets the job. OK when it had no state.
  [[nodiscard]] virtual Status Remove(std::string_view id) = 0;
  /// Checks the store is reachable (for /readyz). Default: OK.
  [[nodiscard]] virtual Status Ready() { return OkStatus(); }
  virtual std::string Describe() const = 0;
};
using JobStateStorePtr = std::unique_ptr<JobStateStore>;

/// The embedded default: a map in this process's memory (one process sees it).
JobStateStorePtr NewMemoryJobStateStore();

/// JobState as JSON (the value of the NATS key-value store): {"phase":"queued"|"running",
/// "progress":{"objects_done",...},"shards_total","shards_done","holders":{...},"failure",
/// "updated"} (updated in Unix ms).
std::string JobStateToJson(const JobState& state);
/// Parses JobStateToJson's output. InvalidArgument for anything else (a value written by a
/// newer or broken writer: the reader should treat the job as unknown).
Result<JobState> JobStateFromJson(std::string_view json);

}  // namespace vpcflow
