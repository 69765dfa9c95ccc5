#include "vpcflow/digest_summary.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <numeric>
#include <string>

#include "common/json_string.hpp"

namespace vpcflow {
namespace {

constexpr std::string_view kOutcomeNames[kLineOutcomeCount] = {
    "used",        "header",         "blank",         "bad_token_count", "bad_number",
    "bad_address", "bad_value",      "status_nodata", "status_skipdata", "status_other",
    "incomplete",  "outside_window",
};

std::string Megabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", s);
  return buf;
}

}  // namespace

std::string_view ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kCorrupt:
      return "corrupt";
    case ProblemKind::kVanished:
      return "vanished";
    case ProblemKind::kNotAFile:
      return "not_a_file";
  }
  return "unknown";
}

std::string_view LineOutcomeName(LineOutcome outcome) {
  const auto i = static_cast<size_t>(outcome);
  return i < kLineOutcomeCount ? kOutcomeNames[i] : std::string_view("unknown");
}

uint64_t DigestSummary::lines_total() const {
  return std::accumulate(lines.begin(), lines.end(), uint64_t{0});
}

std::string DigestSummary::ToJson() const {
  namespace json = boost::json;
  json::object lines_json;
  for (size_t i = 0; i < kLineOutcomeCount; ++i) lines_json[kOutcomeNames[i]] = lines[i];
  json::array problems_json;
  for (const ObjectProblem& p : problems) {
    // Keys and reasons come from object names and error messages: valid UTF-8 only.
    problems_json.push_back(json::object{{"key", ValidUtf8(p.key)},
                                         {"kind", ProblemKindName(p.kind)},
                                         {"reason", ValidUtf8(p.reason)}});
  }
  json::object j;
  j["window"] =
      json::object{{"start", FormatRfc3339(window.start)}, {"stop", FormatRfc3339(window.stop)}};
  j["objects_listed"] = objects_listed;
  j["objects_ignored"] = objects_ignored;
  j["objects_out_of_range"] = objects_out_of_range;
  j["objects_parquet"] = objects_parquet;
  j["objects_empty"] = objects_empty;
  j["objects_read"] = objects_read;
  j["objects_failed"] = objects_failed;
  j["objects_vanished"] = objects_vanished;
  j["objects_not_files"] = objects_not_files;
  j["list_requests"] = list_requests;
  j["bytes_compressed"] = bytes_compressed;
  j["bytes_uncompressed"] = bytes_uncompressed;
  j["lines"] = std::move(lines_json);
  j["lines_total"] = lines_total();
  j["keys"] = keys;
  j["list_seconds"] = list_seconds;
  j["read_seconds"] = read_seconds;
  j["total_seconds"] = total_seconds;
  j["problems"] = std::move(problems_json);
  return json::serialize(j);
}

std::string DigestSummary::ToText() const {
  std::string out;
  out += "window   " + FormatRfc3339(window.start) + " .. " + FormatRfc3339(window.stop) + "\n";
  out += "objects  " + std::to_string(objects_read) + " read (" + std::to_string(objects_parquet) +
         " Parquet), " + std::to_string(objects_failed) + " failed, " +
         std::to_string(objects_vanished) + " vanished, " + std::to_string(objects_not_files) +
         " not files, " + std::to_string(objects_empty) + " empty, " +
         std::to_string(objects_out_of_range) + " out of range, " +
         std::to_string(objects_ignored) + " ignored (" + std::to_string(objects_listed) +
         " listed in " + std::to_string(list_requests) + " requests)\n";
  out += "bytes    " + Megabytes(bytes_compressed) + " compressed, " +
         Megabytes(bytes_uncompressed) + " text\n";
  out += "lines    " + std::to_string(lines_total()) + ":";
  for (size_t i = 0; i < kLineOutcomeCount; ++i) {
    if (lines[i] == 0) continue;
    out += " " + std::string(kOutcomeNames[i]) + " " + std::to_string(lines[i]);
  }
  out += "\n";
  out += "keys     " + std::to_string(keys) + "\n";
  out += "time     list " + Seconds(list_seconds) + ", read " + Seconds(read_seconds) + ", total " +
         Seconds(total_seconds) + "\n";
  for (const ObjectProblem& p : problems) {
    out +=
        "skipped  " + p.key + ": " + std::string(ProblemKindName(p.kind)) + ": " + p.reason + "\n";
  }
  return out;
}

}  // namespace vpcflow
