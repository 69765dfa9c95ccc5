#include "jobs/run_shard.hpp"

#include <chrono>

#include "digest/aggregation.hpp"

namespace vpcflow {

Result<DigestSummary> RunShard(ObjectSource& source, const Window& window, const Shard& shard,
                               const ShardRunOptions& options, ByteSink& out) {
  const auto t0 = std::chrono::steady_clock::now();
  if (window.start >= window.stop) {
    return InvalidArgumentError("the window's start must be before its stop");
  }
  if (options.stop.stop_requested()) return CancelledError("digest cancelled");
  DigestOptions digest_options;
  digest_options.threads = options.threads;
  digest_options.stop = options.stop;
  digest_options.memory_limit = options.memory_limit;
  digest_options.spill_dir = options.spill_dir;
  digest_options.on_progress = options.on_progress;
  DigestSummary summary;
  summary.window = window;
  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Aggregation> aggregation,
                           ReadObjects(source, window, shard.objects, digest_options, &summary));
  summary.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  VPCFLOW_ASSIGN_OR_RETURN(summary.keys, aggregation->WritePartial(out, summary));
  return summary;
}

}  // namespace vpcflow
