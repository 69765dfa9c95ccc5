#pragma once
/// Which objects a window reads (DESIGN.md, "Which objects are read"), and the listing walk that
/// finds them without scanning the whole bucket.

#include <cstdint>
#include <string>
#include <vector>

#include "vpcflow/digest_summary.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

/// File-name timestamps to read for a window: `[floor5(start) - 5 min, stop + 15 min)`.
struct StampRange {
  int64_t begin = 0;
  int64_t end = 0;
  bool Contains(int64_t t) const { return t >= begin && t < end; }
};
StampRange FileStampRange(const Window& window);

/// UTC day starts (Unix seconds, multiples of 86400) that `range` touches, ascending.
std::vector<int64_t> DaysTouched(const StampRange& range);
/// UTC hour starts that `range` touches, ascending.
std::vector<int64_t> HoursTouched(const StampRange& range);

/// The outcome of planning: the objects to read, in key order, and what was left aside.
struct ObjectPlan {
  std::vector<ObjectInfo> objects;  ///< to read: text and Parquet
  /// Flow-log names in the StampRange that are not objects (kNotAFile): entries listed with
  /// ObjectInfo::problem, and folders named like flow-log objects. In key order.
  std::vector<ObjectProblem> problems;
  uint64_t listed = 0;        ///< keys returned by the listings
  uint64_t ignored = 0;       ///< not flow-log names (or a folder that contradicts the name)
  uint64_t out_of_range = 0;  ///< flow-log names stamped outside the StampRange
  uint64_t parquet = 0;       ///< of `objects`, the Parquet ones
  uint64_t empty = 0;         ///< in range but zero bytes
  uint64_t list_requests = 0;
};

/// Walks `scan.prefix + "AWSLogs/"` with '/'-delimited listings: account folders (both
/// spellings), then service folders (vpcflowlogs, aws-service=, service=), then region folders,
/// then only the day folders (and in them only the hour folders) that the window's StampRange
/// touches. Accounts/regions not in non-empty scan lists are not descended into. A non-empty
/// `scan.prefix` without a trailing '/' gets one. Objects outside day/hour folders count as
/// listed and ignored, so `listed` is the sum of the other counts plus `objects.size()` plus
/// the problems that were listed as objects (not the folders). Each page of a listing counts as
/// one list request. The folders above the days are listed one after another; the (region, day)
/// walks run `scan.list_concurrency` at once (the source must be thread-safe, as ObjectSource
/// requires), with the same plan as one at a time.
///
/// Returns the source's error (with the prefix as context) when any listing fails (the job
/// fails so it can be retried). Returns NotFound when `scan.prefix + "AWSLogs/"` holds nothing
/// (a forgotten or wrong prefix, an empty bucket), naming the first few folders and objects
/// found under the prefix (and, when that is empty too, at the root). An AWSLogs/ folder that
/// holds nothing for the window, or only other accounts or regions, is an empty plan.
Result<ObjectPlan> PlanObjects(ObjectSource& source, const Window& window, const ScanOptions& scan);

}  // namespace vpcflow
