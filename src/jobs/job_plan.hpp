#pragma once
/// Planning a digest job into shards (issue 10; DESIGN.md, "Shards").
///
/// PlanJob lists the objects of a window (PlanObjects) and groups them by account, region and
/// hour of their file-name stamp, then splits each group, in key order, so that no shard's
/// estimated text is much above the target: a shard is closed before the object that would take
/// it past `target_text_bytes` (a single larger object makes a shard of its own). Text is
/// estimated from stored bytes: gzip text x kGzipTextFactor, plain text x1, Parquet x
/// kParquetTextFactor. Shards are named `<account>-<region>-<yyyymmddhh>-<n>` (n from 0 within
/// the group), deterministic for the same listing, so a shard done twice writes the same
/// partial. Shards come in name order.
///
/// A plan travels as JSON (Boost.JSON): the whole plan (stored beside the partials for the
/// merge) and one shard task (its objects' keys and sizes). Pure apart from the listing;
/// thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

inline constexpr double kGzipTextFactor = 5.0;
inline constexpr double kParquetTextFactor = 6.0;

struct ShardOptions {
  /// A shard is split before it goes above this many estimated text bytes.
  uint64_t target_text_bytes = uint64_t{256} << 20;
  /// And before it holds more objects than this.
  uint64_t max_objects = 20000;
};

/// One unit of work: some objects of one account, region and hour.
struct Shard {
  std::string name;                 ///< `<account>-<region>-<yyyymmddhh>-<n>`
  std::vector<ObjectInfo> objects;  ///< key and size, in key order
  uint64_t stored_bytes = 0;        ///< sum of the objects' sizes
  uint64_t estimated_text_bytes = 0;
  friend bool operator==(const Shard&, const Shard&) = default;
};

struct JobPlan {
  Window window;
  std::vector<Shard> shards;
  /// The planning counts of the summary: objects_listed, _ignored, _out_of_range, _empty,
  /// objects_not_files, list_requests, problems (kNotAFile) and list_seconds; the rest zero.
  DigestSummary planning;
};

/// Lists and groups. Returns the errors of PlanObjects (the source's listing error with the
/// source's description as context; NotFound when there is no AWSLogs/ folder) and
/// InvalidArgument for a window whose start is not before its stop or a zero target.
Result<JobPlan> PlanJob(ObjectSource& source, const Window& window, const ScanOptions& scan,
                        const ShardOptions& options = {});

/// The plan as one JSON object {"version":1,"window":{start,stop},"planning":{summary},
/// "shards":[{name, stored_bytes, estimated_text_bytes, objects:[{key,size}]}]}.
std::string JobPlanToJson(const JobPlan& plan);
/// Back; InvalidArgument naming what is wrong for text that is not such a plan.
Result<JobPlan> JobPlanFromJson(std::string_view json);

/// One shard task: {"version":1,"window":{start,stop},"shard":{...as above}}, and "plan" when
/// `plan_id` is not empty (which plan of the job it belongs to: service/sharded_job.hpp).
std::string ShardTaskToJson(const Window& window, const Shard& shard,
                            std::string_view plan_id = {});
struct ShardTask {
  Window window;
  Shard shard;
  std::string plan_id{};  ///< "" when the task names none
};
Result<ShardTask> ShardTaskFromJson(std::string_view json);

}  // namespace vpcflow
