#pragma once
/// The reading half of RunDigest, shared with the shards of a job (src/jobs/run_shard): objects
/// read on worker threads and aggregated into a table kept within DigestOptions::memory_limit,
/// then either the digest (Finish) or the keyed partial of those objects (WritePartial).
///
/// Memory (DESIGN.md "Memory, spilling and partial digests"): the shared table is spilled as a
/// sorted run to a private spill directory when it reaches half the limit; a quarter is shared
/// by the reading workers' RecordBatches (BatchBytes: each holds at most limit / (4 x workers),
/// counted by RecordBatch::memory_bytes, whatever the size of the object it reads); the rest is
/// for the spill's sort and the final order. A worker whose object does not fit its share
/// writes the batch as a *pending* run (WritePendingRun) and goes on; with the object's last
/// Merge its pending runs are read back into the table when it has never spilled and they fit
/// below its threshold (the digest then stays in memory), else they join the spilled runs; they are
/// deleted (DropPendingRuns) when the object turns out corrupt or vanished, or the run stops: an
/// object that is skipped adds no rows.
///
/// Threading: Merge, WritePendingRun and DropPendingRuns are called by the reading workers at
/// once; Finish or WritePartial once, afterwards, from one thread. The spill directory goes with
/// the Aggregation (or, after Finish of a spilled run, with the Digest that reads its files).

#include <atomic>
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

/// The least a worker's batch is given, whatever the limit and the worker count.
inline constexpr size_t kMinBatchBytes = size_t{64} << 10;

/// A run of an object still being read (Aggregation::WritePendingRun): its file and its rows.
struct PendingRun {
  std::string path;
  uint64_t rows = 0;
};

class Aggregation {
 public:
  /// `options` must outlive the Aggregation.
  explicit Aggregation(const DigestOptions& options);
  ~Aggregation();
  Aggregation(const Aggregation&) = delete;
  Aggregation& operator=(const Aggregation&) = delete;

  /// The most each worker's RecordBatch may hold (RecordBatch(max_bytes)) when `workers` read
  /// at once: a quarter of the limit shared among them, at least kMinBatchBytes.
  size_t BatchBytes(size_t workers) const;
  /// Adds the object's records (and clears them) and its pending runs (and clears `pending`:
  /// read back into the table, batch by batch through `batch`, when the table has never spilled
  /// and their rows fit below the spill threshold; else kept as runs); spills when the table
  /// reaches half the limit. The spill's
  /// error (the spill directory's: it cannot be made, or it is full), a pending run's read
  /// error, Cancelled on a stop while runs are read back.
  [[nodiscard]] Status Merge(RecordBatch& batch, std::vector<PendingRun>& pending);
  /// Writes `batch` (of an object still being read) as a run of the spill directory, its keys
  /// in order and equal keys combined (RecordBatch::DrainInKeyOrder), and clears it. The run is
  /// pending: its path is appended to `pending`, for the object's Merge or DropPendingRuns. The
  /// errors of the spill directory (it cannot be made, or it is full: the run must fail).
  [[nodiscard]] Status WritePendingRun(RecordBatch& batch, std::vector<PendingRun>& pending);
  /// Deletes the pending runs of an object that adds nothing (and clears `pending`).
  void DropPendingRuns(std::vector<PendingRun>& pending);
  /// The most a worker's batch held (RecordBatch::memory_bytes), seen at each Merge and each
  /// WritePendingRun (when a batch is at its fullest).
  size_t peak_batch_bytes() const { return peak_batch_bytes_.load(std::memory_order_relaxed); }
  /// Pending runs written so far (those of skipped objects included).
  size_t pending_runs_written() const {
    return pending_runs_written_.load(std::memory_order_relaxed);
  }
  /// The digest of everything merged: in memory when nothing was spilled, else by the external
  /// merge and sort (MergeKeyedRuns). Call once.
  Result<Digest> Finish();
  /// Writes everything merged as one keyed partial to `out` (not closed), its trailer carrying
  /// `summary` with keys = the rows written. Returns the rows. Call once, instead of Finish.
  Result<uint64_t> WritePartial(ByteSink& out, const DigestSummary& summary);
  /// Runs so far: the table's spills and the pending runs of the objects merged.
  size_t spills() const { return runs_.size(); }

 private:
  // Adds the batch's records to the table (and clears them); spills when the table reaches half
  // the limit.
  Status MergeBatch(RecordBatch& batch);
  // The most a row read back from a pending run may add to the table: a wide row and two index
  // slots.
  static constexpr uint64_t kReadBackRowBytes = sizeof(DigestEntry) + 2 * sizeof(uint64_t);
  // Adds the rows of the pending run at `path` to the table through `batch` (empty, and left
  // empty), MergeBatch by MergeBatch, each after a check of the stop. The run file's errors;
  // Cancelled on a stop.
  Status MergePendingRun(const std::string& path, RecordBatch& batch);
  Status Spill();
  // The spill directory, made on first use (call with mu_ held exclusively).
  Status MakeSpillDir();
  void NotePeak(const RecordBatch& batch);
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
  std::atomic<size_t> peak_batch_bytes_{0};
  std::atomic<size_t> pending_runs_written_{0};
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
