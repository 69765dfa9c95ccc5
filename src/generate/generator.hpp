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

/// The mix of records and objects. The defaults give the corpus of earlier versions byte for
/// byte; `make bench` sets them to the shape of real corpora (issue 14: one stream per account,
/// the default format, few IPv6 hosts, scans of one key each, ephemeral ports from 1024, 10-minute
/// objects, gzip level 6).
struct GenerateShape {
  int regions_per_account = 2;       ///< 1..10
  int flow_logs_per_region = 0;      ///< 0: 1 or 2 at random; else that many (1..4)
  bool default_format_only = false;  ///< every flow log writes the default (version 2) format
  int interfaces = 0;                ///< interfaces per account (0: a fifth of the hosts)
  double ipv6 = 0.15;                ///< share of the hosts that are IPv6, 0..1
  double nodata = 0.004;             ///< share of events that are NODATA/SKIPDATA lines
  double scans = 0.096;              ///< share of events that are refused scans
  /// Scanner addresses per account: 0 = the account's external hosts; else scans come from that
  /// many random public addresses (a large pool makes nearly every scan its own key).
  int scanners = 0;
  /// Peers an interface talks to: 0 = any host of its family (Zipf); else that many, fixed per
  /// interface and drawn uniformly (fewer peers, fewer keys).
  int peers = 0;
  double port_skew = 1.1;     ///< Zipf exponent of the service ports (larger: 443 dominates)
  int ephemeral_min = 32768;  ///< client ports drawn from [ephemeral_min, 65535]
  int stamp_minutes = 5;      ///< one object per flow log every N minutes (1..60)
  int gzip_level = 1;         ///< of the text objects, 1..9
  /// Chance, in [0, 1), that an event is on the previous event's interface rather than one drawn
  /// afresh (the same Zipf law overall): runs of one interface's records, as an aggregator that
  /// flushes per interface writes them, make objects more compressible (issue 14's mid corpus).
  /// 0 draws every event's interface afresh (and draws nothing more: earlier corpora unchanged).
  double interface_runs = 0;
};

/// Every member has a default initializer, so a designated initializer may name only some.
struct GenerateOptions {
  std::string out_dir{};  ///< root of the bucket-like tree (created)
  Window window{};        ///< file stamps cover [start, stop) in 5-minute steps
  double size_mb = 100;   ///< approximate uncompressed text size, MB (10^6 bytes)
  int accounts = 3;       ///< distinct accounts (2 regions each, 1-2 flow logs each)
  /// Distinct addresses per account (a fifth are the account's interfaces): drives the number
  /// of digest keys. With 1000 MB and 4 accounts: 280 hosts give about 0.5 M keys, 1000 about
  /// 1.5 M, 8000 about 3.5 M (keys grow roughly as hosts^0.6).
  int hosts = 2000;
  GenerateLayout layout = GenerateLayout::kDaily;
  uint64_t seed = 1;
  int threads = 0;       ///< 0 = the number of cores
  std::string prefix{};  ///< user prefix before AWSLogs/ ("" = none)
  GenerateFormat format = GenerateFormat::kText;
  /// Parquet only: the pages' codec (GZIP as AWS writes; SNAPPY, ZSTD, UNCOMPRESSED).
  parquet::Codec parquet_codec = parquet::Codec::kGzip;
  GenerateShape shape{};
};

struct GenerateReport {
  uint64_t objects = 0;
  uint64_t records = 0;
  uint64_t bytes_uncompressed = 0;  ///< of the text (also for Parquet: the same records' text)
  uint64_t bytes_compressed = 0;    ///< of the objects written
};

/// Writes the corpus. Returns InvalidArgument for bad options (size <= 0, accounts < 1,
/// hosts < 2, a shape field out of its range) and the file system's error when writing fails.
Result<GenerateReport> GenerateCorpus(const GenerateOptions& options);

/// Parses "daily" | "hourly" | "hive".
Result<GenerateLayout> ParseGenerateLayout(std::string_view name);
/// Parses "text" | "parquet".
Result<GenerateFormat> ParseGenerateFormat(std::string_view name);
/// Parses "gzip" | "snappy" | "zstd" | "none".
Result<parquet::Codec> ParseParquetCodec(std::string_view name);

}  // namespace vpcflow
