#pragma once
/// The digest engine (DESIGN.md, "Which objects are read" and "Digest rules").
///
/// RunDigest lists the flow-log objects of a window, reads them on several threads, aggregates
/// every record that overlaps the window into one row per conversation key, and returns the
/// sorted digest with a summary of the run. It is synchronous and thread-safe: several digests
/// may run at once on one source. Memory is proportional to the number of distinct keys, up to
/// DigestOptions::memory_limit (then it spills to disk).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/digest_summary.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

/// The default bound of the aggregation table's memory (DigestOptions::memory_limit): generous
/// for one machine, but finite.
inline constexpr uint64_t kDefaultMemoryLimit = uint64_t{4} << 30;
/// The smallest memory limit accepted (below it the runs would be tiny and many).
inline constexpr uint64_t kMinMemoryLimit = uint64_t{1} << 20;

struct DigestOptions {
  ScanOptions scan;
  /// Worker threads reading objects; 0 = the number of cores.
  int threads = 0;
  /// Called (from any thread, serialised, at most about 10 times a second and once at the end)
  /// while objects are read. Null = no reports.
  std::function<void(const DigestProgress&)> on_progress;
  /// When a stop is requested the run ends early with Cancelled.
  std::stop_token stop;
  /// Bytes the aggregation table may hold. When it reaches them, it writes its rows as a sorted
  /// run (digest/partial_run.hpp) to `spill_dir` and starts again; the end merges the runs and
  /// orders the rows by an external sort. The output is byte-identical to an unbounded run.
  /// At least kMinMemoryLimit (smaller values are raised to it).
  uint64_t memory_limit = kDefaultMemoryLimit;
  /// Where spilled runs go ("" = $TMPDIR, else /tmp): a private directory is made in it and
  /// removed with everything in it when the run fails or its Digest is destroyed. Only used
  /// when the limit is reached.
  std::string spill_dir{};
  /// Called with the private spill directory's path when it is created (the CLI registers it
  /// for removal on SIGINT/SIGTERM). Null = not called.
  std::function<void(const std::string&)> on_spill_dir{};
};

/// Output encodings of one digest. All share the row order of `kFlowLog`.
enum class DigestFormat {
  kFlowLog,  ///< the stored format: "2 acct eni src dst sport dport proto packets bytes start end
             ///< action OK"
  kNdjson,   ///< one JSON object per row
  kCsv,      ///< header line, then one row per line
};
/// Parses "flowlog" | "ndjson" | "csv". Returns InvalidArgument otherwise.
Result<DigestFormat> ParseDigestFormat(std::string_view name);
std::string_view DigestFormatName(DigestFormat format);

/// One row of a digest, as seen by callers (views valid while the Digest lives).
struct DigestRow {
  std::string_view account_id;    ///< "-" when absent from the format
  std::string_view interface_id;  ///< "-" when absent from the format
  std::string_view srcaddr;       ///< RFC 5952 / dotted quad
  std::string_view dstaddr;
  uint32_t srcport = 0;
  uint32_t dstport = 0;
  uint32_t protocol = 0;
  std::string_view action;  ///< "ACCEPT", "REJECT" or "-"
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;
  int64_t start = 0;  ///< min start of the records
  int64_t end = 0;    ///< max end of the records
};

class DigestTable;  // internal: the aggregated keys
class SortedRows;   // internal: rows of an external sort (src/digest/spill.hpp)
struct RowView;     // internal: a row as the encoders see it (src/digest/row_format.hpp)

/// The finished digest: immutable, movable, rows in output order.
class Digest {
 public:
  Digest();
  explicit Digest(std::unique_ptr<DigestTable> table);
  /// A digest too large for memory: its rows come from an external sort (files it owns).
  explicit Digest(std::unique_ptr<SortedRows> rows);
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  size_t size() const;
  /// Calls `fn` for each row in output order (bytes descending, then the flowlog line's bytes
  /// ascending). Not thread-safe against itself (uses a scratch buffer). Returns the error of
  /// reading a spilled digest's files (always OK in memory).
  Status ForEachRow(const std::function<void(const DigestRow&)>& fn) const;
  /// The same rows in the same order as the library's own layers read them (the query layer):
  /// views valid during the call; stops when `fn` returns false. Not thread-safe against itself.
  /// Returns the error of reading a spilled digest's files (always OK in memory).
  [[nodiscard]] Status ForEachRowView(const std::function<bool(const RowView&)>& fn) const;
  /// ForEachRowView, with each row's flowlog line as Encode(kFlowLog) writes it ('\n' included)
  /// when the walk already holds it (the rows of a tie group, every row of a spilled digest), else
  /// empty: a caller writing the text beside another form need not format it again.
  [[nodiscard]] Status ForEachRowViewAndLine(
      const std::function<bool(const RowView&, std::string_view line)>& fn) const;
  /// Writes the digest in `format` to `sink` (does not Close it).
  [[nodiscard]] Status Encode(DigestFormat format, ByteSink& sink) const;

 private:
  std::unique_ptr<DigestTable> table_;
  std::unique_ptr<SortedRows> sorted_;
};

/// The result of a run.
struct DigestRun {
  Digest digest;
  DigestSummary summary;
};

/// Plans, reads and aggregates. Returns the error of listing (Unavailable, PermissionDenied,
/// NotFound) when the source cannot be listed at all, NotFound when no AWSLogs/ folder is found
/// (PlanObjects), Cancelled when `options.stop` fired, and InvalidArgument for a bad window
/// (start not before stop).
///
/// A bad object is not a failed digest, but a failed read is (DESIGN.md, "Digest rules"):
/// - content that is not a flow log (bad gzip, truncated: DataLoss from the decoder) is skipped:
///   `objects_failed`, problem kind kCorrupt;
/// - an object that answers NotFound when opened or read was deleted since the listing:
///   `objects_vanished`, kVanished;
/// - entries listed with ObjectInfo::problem are never opened: `objects_not_files`, kNotAFile;
/// - any other error of the source while opening or reading an object (PermissionDenied,
///   Unavailable after the source's retries, FailedPrecondition for an object replaced
///   mid-read, DataLoss of a short transfer, ...) fails the run with that code and a message
///   naming the key, so the job can be retried; the other workers stop at their next object.
///
/// Objects are claimed one at a time by `options.threads` workers, in plan (key) order; a worker
/// that claims object i hints the next text objects (of the next 32) to `source.Prefetch`.
/// Parquet objects (`.parquet` keys) are read with `source.OpenRandomAccess` (the footer, then
/// only the needed column chunks), or whole when the source has no random access. An object is
/// aggregated on its own and merged only once it was read to the end: a skipped object adds no
/// rows and none of its lines or bytes to the summary's counts. The stop token is checked
/// between objects and every few thousand lines. Peak memory is about 150 bytes per distinct key
/// plus a few MB per worker, up to `options.memory_limit`: above it the table spills sorted runs
/// to `options.spill_dir` and the digest is merged and ordered from them (same output). Spilling
/// adds the spill directory's errors (creating it: NotFound/PermissionDenied naming it; writing:
/// Unavailable "No space left on device" with context "spilling to <dir>").
Result<DigestRun> RunDigest(ObjectSource& source, const Window& window,
                            const DigestOptions& options);

/// The library's version ("0.1.0"), written into manifests.
std::string_view Version();

}  // namespace vpcflow
