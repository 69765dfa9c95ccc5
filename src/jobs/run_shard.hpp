#pragma once
/// Running one shard of a job: its objects read and aggregated as RunDigest reads them (the same
/// digest rules, problems and counts), written as a keyed partial (digest/partial_run.hpp) to a
/// sink. The table of the shard stays within `memory_limit`: above it, sorted runs are spilled
/// to `spill_dir` and merged into the partial at the end (their files removed on success,
/// failure and cancellation).
///
/// Synchronous, thread-safe (several shards may run at once on one source).

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "jobs/job_plan.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct ShardRunOptions {
  /// Reading threads; 0 = the number of cores.
  int threads = 0;
  /// When a stop is requested the run ends with Cancelled and nothing is written.
  std::stop_token stop{};
  /// Bytes the aggregation table may use before it spills (kDefaultMemoryLimit).
  uint64_t memory_limit = kDefaultMemoryLimit;
  /// Where spilled runs go ("" = the system temporary directory, $TMPDIR or /tmp).
  std::string spill_dir{};
  /// As DigestOptions::on_progress, over the shard's objects.
  std::function<void(const DigestProgress&)> on_progress{};
};

/// Reads the shard's objects, aggregates their kept records over `window` and writes the
/// partial (rows by canonical key, the trailer with the shard's summary) to `out` (not closed).
/// Returns the shard's summary: the counts of its objects (no planning counts), keys = rows of
/// the partial. Errors: as RunDigest for a failed read (the source's code naming the key),
/// Cancelled, the sink's error, and the spill directory's errors (ResourceExhausted when it is
/// full, naming the directory).
Result<DigestSummary> RunShard(ObjectSource& source, const Window& window, const Shard& shard,
                               const ShardRunOptions& options, ByteSink& out);

}  // namespace vpcflow
