#pragma once
/// The vocabulary of a digest run's outcome, below the engine that produces it: what happened to
/// each line (LineOutcome), which accounts and regions are scanned (ScanOptions), progress
/// (DigestProgress), objects that contributed nothing (ObjectProblem) and the run's counts
/// (DigestSummary). The flow-log parser and planner (which fill them), the job state (which
/// carries progress) and the engine (vpcflow/digest.hpp, which includes this header) share it.
/// Plain values: no threads, nothing owned.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/window.hpp"

namespace vpcflow {

/// What happened to one line of a flow-log object. Every line gets exactly one outcome.
enum class LineOutcome : uint8_t {
  kUsed = 0,        ///< aggregated into the digest
  kHeader,          ///< the object's header line
  kBlank,           ///< empty (or only spaces)
  kBadTokenCount,   ///< token count differs from the format's
  kBadNumber,       ///< a port, protocol, count or time is not a number in range
  kBadAddress,      ///< srcaddr/dstaddr is not IPv4/IPv6
  kBadValue,        ///< another field has a value outside its set (action)
  kStatusNoData,    ///< log-status NODATA
  kStatusSkipData,  ///< log-status SKIPDATA
  kStatusOther,     ///< any other log-status but OK
  kIncomplete,      ///< a required field is absent ('-' or not in the format)
  kOutsideWindow,   ///< a valid record that does not overlap the window
};
inline constexpr size_t kLineOutcomeCount = 12;
/// Stable snake_case name ("used", "bad_token_count", "status_nodata", ...).
std::string_view LineOutcomeName(LineOutcome outcome);

/// Which accounts, regions and user prefix to scan. Empty lists mean "every one found".
struct ScanOptions {
  std::vector<std::string> accounts{};  ///< 12-digit account ids
  std::vector<std::string> regions{};   ///< e.g. "us-east-1"
  std::string prefix{};                 ///< user prefix before "AWSLogs/" ("" = the root)
  /// Day folders listed at once (each region and day is one walk); 1 = one after another.
  /// Listing latency adds up on S3 (tens of ms a request), not on a local disk.
  int list_concurrency{8};
};

/// Progress of a running digest, reported from worker threads.
struct DigestProgress {
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_done = 0;   ///< compressed bytes of finished objects
  uint64_t bytes_total = 0;  ///< compressed bytes of all planned objects
};

/// Why an object with a flow-log name in the window contributed nothing.
enum class ProblemKind : uint8_t {
  kCorrupt,   ///< read to the end, but not a flow log: bad gzip, truncated, bad line framing
  kVanished,  ///< listed, but gone when opened or read (deleted in between): nothing to read
  kNotAFile,  ///< not a readable object: a FIFO, a folder, a dangling link, a link loop, a link
              ///< leaving a local source (ObjectInfo::problem)
};
/// Stable snake_case name: "corrupt", "vanished", "not_a_file".
std::string_view ProblemKindName(ProblemKind kind);

/// An object with a flow-log name in the window that contributed nothing, and why.
struct ObjectProblem {
  std::string key;
  std::string reason;  ///< e.g. "corrupt gzip: invalid block type", "a FIFO"
  ProblemKind kind = ProblemKind::kCorrupt;
};

/// What a run did. Counts are exact; seconds are wall time.
struct DigestSummary {
  Window window;
  uint64_t objects_listed = 0;        ///< keys seen in the listed folders
  uint64_t objects_ignored = 0;       ///< not flow-log file names
  uint64_t objects_out_of_range = 0;  ///< flow-log names stamped outside the read range
  uint64_t objects_empty = 0;         ///< skipped: zero bytes
  uint64_t objects_read = 0;          ///< read completely and merged
  uint64_t objects_parquet = 0;       ///< of objects_read, those read as Parquet
  uint64_t objects_failed = 0;        ///< corrupt or truncated content: contributed nothing
  uint64_t objects_vanished = 0;      ///< listed, then deleted before they could be read
  uint64_t objects_not_files = 0;     ///< flow-log names that are not readable objects
  uint64_t list_requests = 0;
  uint64_t bytes_compressed = 0;  ///< bytes of the objects read (as stored)
  /// Text bytes of the text objects read, plus the decompressed page bytes of the Parquet ones.
  uint64_t bytes_uncompressed = 0;
  /// Lines by LineOutcome, of the objects read completely (a failed object adds none). A Parquet
  /// row counts as one line; a Parquet object has no header line.
  std::array<uint64_t, kLineOutcomeCount> lines{};
  uint64_t keys = 0;  ///< rows of the digest
  double list_seconds = 0;
  double read_seconds = 0;
  double total_seconds = 0;
  /// Every object counted in objects_failed, objects_vanished and objects_not_files, by key.
  std::vector<ObjectProblem> problems;

  uint64_t lines_total() const;
  uint64_t line_count(LineOutcome o) const { return lines[static_cast<size_t>(o)]; }
  /// One JSON object (the manifest's "summary"): every field above, lines by outcome name.
  std::string ToJson() const;
  /// A few human lines for the CLI's --summary (stderr).
  std::string ToText() const;
};

}  // namespace vpcflow
