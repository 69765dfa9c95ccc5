#pragma once
/// Flow-log object keys (FLOWLOGS.md, "Objects in S3"). Pure, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vpcflow {

enum class KeyLayout : uint8_t {
  kDefault,     ///< AWSLogs/<acct>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<HH>/]
  kHive,        ///< AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/aws-region=<r>/year=.../
  kHiveLegacy,  ///< the same with "service=vpcflowlogs"
};

enum class ObjectKind : uint8_t { kGzipText, kPlainText, kParquet };

/// The parts of a flow-log object key. Views point into the parsed key.
struct FlowLogKey {
  std::string_view user_prefix;  ///< before "AWSLogs/", without the trailing '/'; may be empty
  std::string_view account;      ///< 12 digits
  std::string_view region;
  std::string_view flow_log_id;  ///< "fl-..."
  KeyLayout layout = KeyLayout::kDefault;
  bool hourly = false;
  int64_t file_time = 0;  ///< the file name's UTC timestamp, Unix seconds
  ObjectKind kind = ObjectKind::kGzipText;
};

/// Parses a full key. Returns nullopt unless it is a flow-log object: a folder path of one of the
/// layouts whose account, region and date agree with the file name
/// `<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>` + `.log.gz` | `.log` |
/// `.log.parquet` (what AWS writes; also `.parquet`, `.gz.parquet`).
std::optional<FlowLogKey> ParseFlowLogKey(std::string_view key);

/// Parses only a file name: the text after the last '/' (all of `name` when it has none); the
/// folders are not looked at (user_prefix empty, layout kDefault, hourly false).
std::optional<FlowLogKey> ParseFlowLogFileName(std::string_view name);

}  // namespace vpcflow
