#include "jobs/local_job.hpp"

#include <algorithm>
#include <chrono>

#include "digest/aggregation.hpp"
#include "jobs/merge_partials.hpp"
#include "jobs/run_shard.hpp"

namespace vpcflow {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

}  // namespace

Result<DigestRun> RunPlannedJob(ObjectSource& source, const JobPlan& plan,
                                const LocalJobOptions& options) {
  const auto t0 = SteadyClock::now();
  uint64_t text_bytes = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_total = 0;
  for (const Shard& shard : plan.shards) {
    text_bytes += shard.estimated_text_bytes;
    objects_total += shard.objects.size();
    bytes_total += shard.stored_bytes;
  }
  bool sharded = options.storage != nullptr && plan.shards.size() > 1 &&
                 text_bytes > options.in_memory_text_bytes;
  if (sharded) {
    // A store without partials runs the job as one shard: it still fits the memory limit.
    Result<std::vector<std::string>> listed = options.storage->ListPartials(options.id);
    if (!listed.ok() && IsUnimplemented(listed.status())) sharded = false;
  }

  if (!sharded) {
    std::vector<ObjectInfo> objects;
    for (const Shard& shard : plan.shards) {
      objects.insert(objects.end(), shard.objects.begin(), shard.objects.end());
    }
    std::sort(objects.begin(), objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    DigestOptions digest_options;
    digest_options.threads = options.threads;
    digest_options.stop = options.stop;
    digest_options.memory_limit = options.memory_limit;
    digest_options.spill_dir = options.spill_dir;
    digest_options.on_progress = options.on_progress;
    DigestSummary summary = plan.planning;
    VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Aggregation> aggregation,
                             ReadObjects(source, plan.window, objects, digest_options, &summary));
    VPCFLOW_ASSIGN_OR_RETURN(Digest digest, aggregation->Finish());
    summary.keys = digest.size();
    summary.total_seconds = summary.list_seconds + SecondsSince(t0);
    return DigestRun{std::move(digest), std::move(summary)};
  }

  uint64_t objects_done = 0;
  uint64_t bytes_done = 0;
  for (const Shard& shard : plan.shards) {
    ShardRunOptions shard_options{.threads = options.threads,
                                  .stop = options.stop,
                                  .memory_limit = options.memory_limit,
                                  .spill_dir = options.spill_dir};
    if (options.on_progress) {
      shard_options.on_progress = [&](const DigestProgress& p) {
        options.on_progress(
            {objects_done + p.objects_done, objects_total, bytes_done + p.bytes_done, bytes_total});
      };
    }
    const std::string context = "partial " + shard.name;
    Result<PartialUploadPtr> upload = options.storage->BeginPartial(options.id, shard.name);
    if (!upload.ok()) return upload.status().WithContext(context);
    VPCFLOW_RETURN_IF_ERROR(
        RunShard(source, plan.window, shard, shard_options, (*upload)->body()).status());
    VPCFLOW_RETURN_IF_ERROR((*upload)->Commit().WithContext(context));
    objects_done += shard.objects.size();
    bytes_done += shard.stored_bytes;
  }
  std::vector<ObjectReaderPtr> partials;
  for (const Shard& shard : plan.shards) {
    Result<ObjectReaderPtr> reader = options.storage->OpenPartial(options.id, shard.name);
    if (!reader.ok()) return reader.status().WithContext("partial " + shard.name);
    partials.push_back(std::move(reader).value());
  }
  VPCFLOW_ASSIGN_OR_RETURN(DigestRun run, MergePartials(std::move(partials), plan.planning,
                                                        {.memory_limit = options.memory_limit,
                                                         .spill_dir = options.spill_dir,
                                                         .stop = options.stop}));
  run.summary.total_seconds = plan.planning.list_seconds + SecondsSince(t0);
  return run;
}

}  // namespace vpcflow
