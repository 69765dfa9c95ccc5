#pragma once
/// A planned job run in this process (the in-process queue's jobs; DESIGN.md, "Shards"):
/// plan -> shards -> partials -> merge, paying only for what is needed. A job whose estimated
/// text fits `in_memory_text_bytes` (or whose store keeps no partials) is one in-memory shard:
/// its objects are read into one table (bounded by `memory_limit`, spilling as RunDigest does)
/// and the digest comes from that table, with nothing serialised. A larger job runs its shards
/// one after another (each with every thread), each stored as a partial in `storage` under
/// `partials/<id>/<shard name>` (a shard done twice replaces its partial, never adds to it),
/// then merges the stored partials. The caller deletes the partials once the digest is stored.
///
/// Synchronous; thread-safe across calls.

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "jobs/job_plan.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

struct LocalJobOptions {
  std::string id;              ///< the digest id (names its partials)
  Storage* storage = nullptr;  ///< where partials go (null: always one in-memory shard)
  int threads = 0;             ///< reading threads; 0 = the number of cores
  std::stop_token stop{};
  uint64_t memory_limit = kDefaultMemoryLimit;
  std::string spill_dir{};
  /// Jobs of at most this much estimated text are one in-memory shard.
  uint64_t in_memory_text_bytes = uint64_t{4} << 30;
  /// Progress over all the job's objects (as DigestOptions::on_progress).
  std::function<void(const DigestProgress&)> on_progress{};
};

/// Runs `plan`. The summary is the planning counts plus every shard's (keys = rows). Errors:
/// as RunDigest's for a failed read, Cancelled, the spill's and the storage's errors (with
/// context "partial <name>").
Result<DigestRun> RunPlannedJob(ObjectSource& source, const JobPlan& plan,
                                const LocalJobOptions& options);

}  // namespace vpcflow
