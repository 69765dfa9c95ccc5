#include "generate/parquet_convert.hpp"

#include <optional>
#include <vector>

#include "flowlog/format.hpp"
#include "flowlog/line_parser.hpp"
#include "flowlog/tokenizer.hpp"

namespace vpcflow {
namespace {

// AWS's Parquet types by field (FLOWLOGS.md); fields not listed are strings.
parquet::PhysicalType TypeOf(Field field) {
  switch (field) {
    case Field::kVersion:
    case Field::kSrcPort:
    case Field::kDstPort:
    case Field::kProtocol:
    case Field::kTcpFlags:
    case Field::kTrafficPath:
    case Field::kEncryptionStatus:
      return parquet::PhysicalType::kInt32;
    case Field::kPackets:
    case Field::kBytes:
    case Field::kStart:
    case Field::kEnd:
    case Field::kPacketsLostNoRoute:
    case Field::kPacketsLostBlackhole:
    case Field::kPacketsLostMtuExceeded:
    case Field::kPacketsLostTtlExpired:
      return parquet::PhysicalType::kInt64;
    default:
      return parquet::PhysicalType::kByteArray;
  }
}

// The line's tokens (kMaxLineColumns + 1 of them, the last empty, when it has more).
std::vector<std::string_view> Split(std::string_view line) {
  std::vector<uint32_t> bounds(2 * kMaxLineColumns + kTokenBoundsSlack);
  const size_t n = SplitOnSpaces(line, kMaxLineColumns, bounds.data());
  std::vector<std::string_view> tokens(n);
  if (n > kMaxLineColumns) return tokens;
  for (size_t i = 0; i < n; ++i)
    tokens[i] = line.substr(bounds[2 * i], bounds[2 * i + 1] - bounds[2 * i]);
  return tokens;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return lines;
}

bool FitsType(std::string_view token, parquet::PhysicalType type) {
  uint64_t v;
  if (!ParseDecimal(token, &v)) return false;
  return v <= (type == parquet::PhysicalType::kInt32 ? uint64_t{INT32_MAX} : uint64_t{INT64_MAX});
}

}  // namespace

Result<std::string> FlowLogTextToParquet(std::string_view text,
                                         const parquet::WriterOptions& options) {
  std::vector<std::string_view> lines = Lines(text);
  std::vector<std::string_view> names;
  std::vector<Field> fields;
  size_t first = 0;
  if (!lines.empty() && FlowFormat::FromHeader(lines[0])) {
    names = Split(lines[0]);
    first = 1;
  } else {
    for (Field f : FlowFormat::Default().columns()) names.push_back(FieldName(f));
  }
  std::vector<parquet::WriterColumn> columns;
  for (std::string_view name : names) {
    std::string column(name);
    for (char& c : column) c = c == '-' ? '_' : c;
    const parquet::PhysicalType type = TypeOf(FieldFromName(name));
    columns.push_back({.name = std::move(column),
                       .type = type,
                       .utf8 = type == parquet::PhysicalType::kByteArray});
  }

  std::vector<std::vector<std::string_view>> rows;
  for (size_t i = first; i < lines.size(); ++i) {
    std::vector<std::string_view> tokens = Split(lines[i]);
    if (tokens.empty()) continue;
    if (tokens.size() != columns.size()) {
      return InvalidArgumentError("line " + std::to_string(i + 1) + " has " +
                                  std::to_string(tokens.size()) + " fields, the header " +
                                  std::to_string(columns.size()));
    }
    for (size_t c = 0; c < tokens.size(); ++c) {
      if (columns[c].type != parquet::PhysicalType::kByteArray && tokens[c] != "-" &&
          !FitsType(tokens[c], columns[c].type)) {
        columns[c].type = parquet::PhysicalType::kByteArray;
        columns[c].utf8 = true;
      }
    }
    rows.push_back(std::move(tokens));
  }

  parquet::Writer writer(columns, options);
  for (const std::vector<std::string_view>& tokens : rows) {
    for (size_t c = 0; c < tokens.size(); ++c) {
      if (tokens[c] == "-") continue;
      if (columns[c].type == parquet::PhysicalType::kByteArray) {
        writer.SetBytes(c, tokens[c]);
      } else {
        uint64_t v = 0;
        ParseDecimal(tokens[c], &v);
        writer.SetInt(c, static_cast<int64_t>(v));
      }
    }
    VPCFLOW_RETURN_IF_ERROR(writer.EndRow());
  }
  return writer.Finish();
}

}  // namespace vpcflow
