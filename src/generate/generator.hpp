#pragma once
/// A realistic, deterministic flow-log corpus in the bucket layout (`vpcflow-digest generate`).
///
/// For a window it writes, per account, region, flow log and 5-minute stamp, gzipped objects
/// like AWS's: a header line, then records whose end times fall in the file's 5 minutes (some
/// start in the previous interval). The mix: several formats (the default, custom v3/v5 orders,
/// one with fields missing), IPv4 and IPv6 in varied spellings, ACCEPT and REJECT (some with '-'
/// bytes), NODATA/SKIPDATA lines, heavy-tailed (Zipf) talkers and ports, many interfaces.
/// The same options give byte-identical output. Thread-safe: no shared state.

#include <cstdint>
#include <string>

#include "parquet/metadata.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

enum class GenerateLayout { kDaily, kHourly, kHive };

/// How objects are written: gzipped text (`.log.gz`), or Parquet (`.log.parquet`, the same
/// records, see parquet_convert.hpp).
enum class GenerateFormat { kText, kParquet };

struct GenerateOptions {
  std::string out_dir;   ///< root of the bucket-like tree (created)
  Window window;         ///< file stamps cover [start, stop) in 5-minute steps
  double size_mb = 100;  ///< approximate uncompressed text size, MB (10^6 bytes)
  int accounts = 3;      ///< distinct accounts (2 regions each, 1-2 flow logs each)
  /// Distinct addresses per account (a fifth are the account's interfaces): drives the number
  /// of digest keys. With 1000 MB and 4 accounts: 280 hosts give about 0.5 M keys, 1000 about
  /// 1.5 M, 8000 about 3.5 M (keys grow roughly as hosts^0.6).
  int hosts = 2000;
  GenerateLayout layout = GenerateLayout::kDaily;
  uint64_t seed = 1;
  int threads = 0;     ///< 0 = the number of cores
  std::string prefix;  ///< user prefix before AWSLogs/ ("" = none)
  GenerateFormat format = GenerateFormat::kText;
  /// Parquet only: the pages' codec (GZIP as AWS writes; SNAPPY, ZSTD, UNCOMPRESSED).
  parquet::Codec parquet_codec = parquet::Codec::kGzip;
};

struct GenerateReport {
  uint64_t objects = 0;
  uint64_t records = 0;
  uint64_t bytes_uncompressed = 0;  ///< of the text (also for Parquet: the same records' text)
  uint64_t bytes_compressed = 0;    ///< of the objects written
};

/// Writes the corpus. Returns InvalidArgument for bad options (size <= 0, accounts < 1,
/// hosts < 2) and the file system's error when writing fails.
Result<GenerateReport> GenerateCorpus(const GenerateOptions& options);

/// Parses "daily" | "hourly" | "hive".
Result<GenerateLayout> ParseGenerateLayout(std::string_view name);
/// Parses "text" | "parquet".
Result<GenerateFormat> ParseGenerateFormat(std::string_view name);
/// Parses "gzip" | "snappy" | "zstd" | "none".
Result<parquet::Codec> ParseParquetCodec(std::string_view name);

}  // namespace vpcflow
