#include "generate/layout.hpp"

#include <cstdio>

#include "common/civil_time.hpp"

namespace vpcflow::generate {
namespace {

std::string TwoDigits(int v) {
  char b[3] = {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10), 0};
  return b;
}

}  // namespace

std::string ObjectDir(const GenerateOptions& options, const Account& account, const FlowLog& fl,
                      int64_t stamp) {
  CivilTime t = FromUnixSeconds(stamp);
  std::string dir = options.prefix.empty() ? "" : options.prefix + "/";
  std::string yyyy = std::to_string(t.year), mm = TwoDigits(t.month), dd = TwoDigits(t.day);
  if (options.layout == GenerateLayout::kHive) {
    dir += "AWSLogs/aws-account-id=" + account.id +
           "/aws-service=vpcflowlogs/aws-region=" + fl.region + "/year=" + yyyy + "/month=" + mm +
           "/day=" + dd + "/";
  } else {
    dir += "AWSLogs/" + account.id + "/vpcflowlogs/" + fl.region + "/" + yyyy + "/" + mm + "/" +
           dd + "/";
    if (options.layout == GenerateLayout::kHourly) dir += TwoDigits(t.hour) + "/";
  }
  return dir;
}

std::string FileName(const Account& account, const FlowLog& fl, int64_t stamp, uint64_t hash,
                     GenerateFormat format) {
  CivilTime t = FromUnixSeconds(stamp);
  char text[64];
  std::snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02dZ_%08x", t.year, t.month, t.day, t.hour,
                t.minute, static_cast<unsigned>(hash));
  return account.id + "_vpcflowlogs_" + fl.region + "_" + fl.id + "_" + text +
         (format == GenerateFormat::kParquet ? ".log.parquet" : ".log.gz");
}

}  // namespace vpcflow::generate
