#pragma once
/// The bounded-memory path of a digest (DESIGN.md, "Memory and spilling"): a private spill
/// directory, the k-way merge of keyed runs (partial digests) summing equal keys, and the
/// external sort into the output order whose result backs a Digest.
///
/// Used by RunDigest when its table reaches DigestOptions::memory_limit, and by the merge of a
/// sharded job (src/jobs). Not thread-safe unless said otherwise: one run uses them from one
/// thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest_table.hpp"
#include "digest/partial_run.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// A directory of its own (`<base>/vpcflow-spill-XXXXXX`, mode 0700) for one run's temporary
/// files; destroying it removes every file in it and the directory. Thread-safe.
///
/// The directory holds an owner file (kSpillOwnerFile) on which the SpillDir keeps an exclusive
/// flock(2) for its whole life. The kernel drops the lock when the process ends in any way, so
/// a directory whose owner file can be locked by someone else was left by a killed process
/// (SIGKILL, OOM kill, power loss): Create removes such directories of `base` first
/// (SweepStaleSpillDirs).
class SpillDir {
 public:
  /// Creates the directory in `base` ("" = $TMPDIR, else /tmp), after removing the stale spill
  /// directories of `base`. The error names `base` (NotFound, PermissionDenied, Unavailable)
  /// when it cannot.
  static Result<std::shared_ptr<SpillDir>> Create(std::string_view base);
  ~SpillDir();
  SpillDir(const SpillDir&) = delete;
  SpillDir& operator=(const SpillDir&) = delete;

  const std::string& path() const { return path_; }
  /// A new file name in the directory (not created).
  std::string NewFilePath();

 private:
  SpillDir(std::string path, int owner_fd) : path_(std::move(path)), owner_fd_(owner_fd) {}
  std::string path_;
  int owner_fd_;  // holds the owner file's flock
  std::atomic<uint64_t> next_{0};
};

/// The owner file of a spill directory, locked by its living owner.
inline constexpr std::string_view kSpillOwnerFile = ".owner";

/// Removes every `vpcflow-spill-*` directory of `base` ("" = $TMPDIR, else /tmp) whose owner
/// file exists and is not locked: its process is gone; and every one without an owner file that
/// holds nothing but the owner file being created and has not changed for a minute: its process
/// was killed while creating it. Other directories without an owner file (being created, or made
/// by an older version that did not lock) and symbolic links are left alone.
/// Returns how many were removed; failures to remove one are skipped (it is tried again on the
/// next sweep). Thread-safe.
size_t SweepStaleSpillDirs(std::string_view base);

/// Removes `dir` and every file directly in it. OK when it does not exist.
Status RemoveSpillDirectory(const std::string& dir);

/// Writes `rows` (a keyed run) to a new file of `dir`; returns its path. The file is removed
/// when writing fails (ResourceExhausted... the sink's error naming the file, e.g. "No space
/// left on device").
Result<std::string> WriteKeyedRunFile(SpillDir& dir,
                                      const std::function<Status(PartialWriter&)>& rows,
                                      const DigestSummary& summary);

/// Opens a run file of `kind` for reading (the file stays until its SpillDir goes).
Result<std::unique_ptr<PartialReader>> OpenRunFile(const std::string& path, PartialKind kind);

/// The k-way merge of keyed runs: rows in key order, the values of equal keys added
/// (DigestValue::Add), each run's trailer summary added into summary() (AddSummary).
class KeyedMerge {
 public:
  explicit KeyedMerge(std::vector<std::unique_ptr<PartialReader>> runs);
  /// The next merged row (views valid until the next call), false at the end. The first error
  /// of a run, with context "partial <index>".
  [[nodiscard]] Result<bool> Next(KeyedRow* row);
  /// The runs' summaries added (complete after Next returned false).
  const DigestSummary& summary() const { return summary_; }

 private:
  Status Advance(size_t run);
  bool Greater(size_t a, size_t b) const;

  std::vector<std::unique_ptr<PartialReader>> runs_;
  std::vector<KeyedRow> current_;
  std::vector<size_t> heap_;  // runs with a current row, min-heap by key
  bool started_ = false;
  std::string account_;
  std::string interface_;
  DigestSummary summary_;
};

/// The rows of a digest in output order, from an external sort: in memory, or merged from
/// ordered runs on each walk. Backs a Digest (Digest(std::unique_ptr<SortedRows>)).
class SortedRows {
 public:
  virtual ~SortedRows() = default;
  virtual size_t size() const = 0;
  /// Calls `fn` with every row in order until it returns false. The error of reading a run.
  [[nodiscard]] virtual Status ForEach(const std::function<bool(const OrderedRow&)>& fn) const = 0;
};

struct SorterOptions {
  /// Bytes of lines and their references held before a sorted run is written.
  size_t budget_bytes = size_t{256} << 20;
  /// Runs merged at once; more are first merged into fewer.
  size_t max_fan_in = 64;
  std::stop_token stop{};
};

/// A row of OutputSorter's buffer: its line is `length` bytes at `offset` of the text.
struct SortedLineRef {
  uint64_t bytes;
  uint64_t flows;
  int64_t start;
  int64_t end;
  size_t offset;
  size_t length;
};

/// Orders merged rows (any order in) into the output order: formats each row's flowlog line,
/// sorts what fits in the budget, writes sorted runs to `dir` when it does not.
class OutputSorter {
 public:
  OutputSorter(std::shared_ptr<SpillDir> dir, SorterOptions options);
  ~OutputSorter();
  [[nodiscard]] Status Add(const KeyedRow& row);
  /// The rows in order; the runs' files belong to the result (and its SpillDir).
  Result<std::unique_ptr<SortedRows>> Finish();

 private:
  using Ref = SortedLineRef;
  Status SpillChunk();
  void SortChunk();

  std::shared_ptr<SpillDir> dir_;
  SorterOptions options_;
  std::string text_;
  std::vector<Ref> refs_;
  std::vector<std::string> runs_;
  uint64_t rows_ = 0;
};

/// Merges keyed runs (`runs`, any count) into a digest in `dir`: KeyedMerge, then the output
/// order by OutputSorter (budget `memory_limit / 2`). More than the fan-in allowed by the limit
/// are first merged into fewer runs in `dir`. Returns the digest and the runs' summed summary
/// (keys = rows). The errors of the runs, of `dir`, Cancelled.
struct MergedRuns {
  Digest digest;
  DigestSummary summary;
};
Result<MergedRuns> MergeKeyedRuns(std::vector<std::unique_ptr<PartialReader>> runs,
                                  std::shared_ptr<SpillDir> dir, uint64_t memory_limit,
                                  const std::stop_token& stop);

/// Runs merged at once under `memory_limit` (each open run holds about 512 KiB of buffers).
size_t FanInFor(uint64_t memory_limit);

}  // namespace vpcflow
