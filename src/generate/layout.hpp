#pragma once
/// Where a generated object goes: its folder in the bucket layout asked for (daily, hourly or
/// Hive, under the user prefix) and its file name as AWS spells it.

#include <cstdint>
#include <string>

#include "generate/generator.hpp"
#include "generate/traffic_model.hpp"

namespace vpcflow::generate {

/// The folder, relative to the output root and ending in '/', of the object of `fl` stamped
/// `stamp`, e.g. "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/01/".
std::string ObjectDir(const GenerateOptions& options, const Account& account, const FlowLog& fl,
                      int64_t stamp);

/// The object's file name: account, flow log, stamp, `hash` and the format's extension.
std::string FileName(const Account& account, const FlowLog& fl, int64_t stamp, uint64_t hash,
                     GenerateFormat format);

}  // namespace vpcflow::generate
