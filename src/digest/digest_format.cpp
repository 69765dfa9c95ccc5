#include <string>

#include "vpcflow/digest.hpp"

#ifndef VPCFLOW_VERSION
#define VPCFLOW_VERSION "0.0.0"
#endif

namespace vpcflow {

Result<DigestFormat> ParseDigestFormat(std::string_view name) {
  if (name == "flowlog") return DigestFormat::kFlowLog;
  if (name == "ndjson") return DigestFormat::kNdjson;
  if (name == "csv") return DigestFormat::kCsv;
  return InvalidArgumentError("unknown digest format \"" + std::string(name) +
                              "\" (expected flowlog, ndjson or csv)");
}

std::string_view DigestFormatName(DigestFormat format) {
  switch (format) {
    case DigestFormat::kFlowLog:
      return "flowlog";
    case DigestFormat::kNdjson:
      return "ndjson";
    case DigestFormat::kCsv:
      return "csv";
  }
  return "unknown";
}

std::string_view Version() { return VPCFLOW_VERSION; }

}  // namespace vpcflow
