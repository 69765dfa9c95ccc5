#pragma once
/// The final step of a sharded job: the streaming k-way merge of the shards' partials by
/// canonical key (equal keys summed, summaries added), then the digest's order (bytes
/// descending, then the flowlog line's bytes ascending), by an external sort in `spill_dir` when
/// it does not fit in `memory_limit`. The result is a Digest like RunDigest's: Encode it to the
/// stored flowlog gzip (and WriteRowFile for the sidecar). Byte-identical to the single-process
/// digest of the same objects.
///
/// Synchronous; thread-safe across calls.

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "jobs/job_plan.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct MergeOptions {
  /// Bytes the merge may hold in memory (kDefaultMemoryLimit); above it, it sorts externally.
  uint64_t memory_limit = kDefaultMemoryLimit;
  /// Where the external sort's runs go ("" = $TMPDIR or /tmp). They belong to the returned
  /// Digest and are removed when it is destroyed (and on failure).
  std::string spill_dir{};
  /// When a stop is requested the merge ends with Cancelled.
  std::stop_token stop{};
};

/// Merges `partials` (readers of keyed partials, owned; any order, any count, none = an empty
/// digest) into the final digest. The summary is `planning` plus every partial's trailer
/// summary (keys = rows of the digest; problems sorted by key). Errors: DataLoss naming the
/// partial (its index) for a corrupt one, FailedPrecondition for a newer version, the
/// readers' errors, Cancelled, the spill directory's errors.
Result<DigestRun> MergePartials(std::vector<ObjectReaderPtr> partials,
                                const DigestSummary& planning, const MergeOptions& options);

}  // namespace vpcflow
