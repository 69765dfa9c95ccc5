#pragma once
/// The reading half of RunDigest, shared with the shards of a job (src/jobs/run_shard): objects
/// read on worker threads and aggregated into a table kept within DigestOptions::memory_limit
/// (spilled as sorted runs to a private spill directory above half of it: the rest is for the
/// workers' record batches, the spill's sort and the final order), then either the digest
/// (Finish) or the keyed partial of those objects (WritePartial).
///
/// Threading: Merge is called by the reading workers at once; Finish or WritePartial once,
/// afterwards, from one thread. The spill directory goes with the Aggregation (or, after Finish
/// of a spilled run, with the Digest that reads its files).

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "digest/digest_table.hpp"
#include "digest/partial_run.hpp"
#include "digest/spill.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {

class Aggregation {
 public:
  /// `options` must outlive the Aggregation.
  explicit Aggregation(const DigestOptions& options);
  ~Aggregation();
  Aggregation(const Aggregation&) = delete;
  Aggregation& operator=(const Aggregation&) = delete;

  /// Adds the object's records (and clears them); spills when the table reaches half the limit.
  /// The spill's error (the spill directory's: it cannot be made, or it is full).
  [[nodiscard]] Status Merge(RecordBatch& batch);
  /// The digest of everything merged: in memory when nothing was spilled, else by the external
  /// merge and sort (MergeKeyedRuns). Call once.
  Result<Digest> Finish();
  /// Writes everything merged as one keyed partial to `out` (not closed), its trailer carrying
  /// `summary` with keys = the rows written. Returns the rows. Call once, instead of Finish.
  Result<uint64_t> WritePartial(ByteSink& out, const DigestSummary& summary);
  /// Runs spilled so far.
  size_t spills() const { return runs_.size(); }

 private:
  Status Spill();
  static Status WriteRows(DigestTable& table, PartialWriter& writer);
  Result<std::vector<std::unique_ptr<PartialReader>>> OpenRuns();

  const DigestOptions& options_;
  const uint64_t limit_;
  const uint64_t threshold_;
  std::shared_mutex mu_;
  std::unique_ptr<DigestTable> table_;
  std::shared_ptr<SpillDir> dir_;
  std::vector<std::string> runs_;
  Status failed_;  // the first failed spill (guarded by mu_)
};

/// Reads and aggregates `objects` over `window` as RunDigest does (same rules, problems and
/// counts) with `options` (threads, stop, progress over these objects, memory). Adds to
/// `summary`: objects_read/_parquet/_failed/_vanished, bytes, lines, the problems of the objects
/// (then sorts all of summary's problems by key) and read_seconds. Errors as RunDigest's for a
/// failed read, Cancelled, the spill's errors.
Result<std::unique_ptr<Aggregation>> ReadObjects(ObjectSource& source, const Window& window,
                                                 const std::vector<ObjectInfo>& objects,
                                                 const DigestOptions& options,
                                                 DigestSummary* summary);

}  // namespace vpcflow
