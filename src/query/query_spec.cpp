#include "query/query_spec.hpp"

#include <charconv>
#include <cmath>

namespace vpcflow {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal digits 0..max into *out.
bool ParseBits(std::string_view s, unsigned max, uint8_t* out) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  *out = static_cast<uint8_t>(v);
  return true;
}

}  // namespace

std::string_view QueryFormatName(QueryFormat format) {
  switch (format) {
    case QueryFormat::kFlowLog:
      return "flowlog";
    case QueryFormat::kNdjson:
      return "ndjson";
    case QueryFormat::kCsv:
      return "csv";
    case QueryFormat::kJson:
      return "json";
    case QueryFormat::kDot:
      return "dot";
    case QueryFormat::kSvg:
      return "svg";
  }
  return "";
}

std::string_view QueryFormatMediaType(QueryFormat format) {
  switch (format) {
    case QueryFormat::kFlowLog:
      return "text/plain; charset=utf-8";
    case QueryFormat::kNdjson:
      return "application/x-ndjson";
    case QueryFormat::kCsv:
      return "text/csv; charset=utf-8";
    case QueryFormat::kJson:
      return "application/json";
    case QueryFormat::kDot:
      return "text/vnd.graphviz";
    case QueryFormat::kSvg:
      return "image/svg+xml";
  }
  return "";
}

Result<GroupBy> ParseGroupBy(std::string_view text) {
  static constexpr std::pair<std::string_view, uint16_t> kFields[] = {
      {"account_id", kRowAccount},  {"account", kRowAccount}, {"interface_id", kRowInterface},
      {"interface", kRowInterface}, {"srcaddr", kRowSrcAddr}, {"dstaddr", kRowDstAddr},
      {"srcport", kRowSrcPort},     {"dstport", kRowDstPort}, {"protocol", kRowProtocol},
      {"action", kRowAction},
  };
  GroupBy out;
  if (Trim(text).empty()) return out;
  size_t begin = 0;
  for (;;) {
    const size_t comma = text.find(',', begin);
    const std::string_view item = Trim(text.substr(begin, comma - begin));
    const std::string_view name = item.substr(0, item.find('/'));
    uint16_t bit = 0;
    for (const auto& [field, b] : kFields) {
      if (name == field) bit = b;
    }
    if (bit == 0) {
      return InvalidArgumentError(
          "group_by: unknown field '" + std::string(item) +
          "' (fields: account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, "
          "action)");
    }
    if (out.fields & bit) {
      return InvalidArgumentError("group_by: '" + std::string(name) + "' is named twice");
    }
    out.fields |= bit;
    if (name.size() < item.size()) {
      if (bit != kRowSrcAddr && bit != kRowDstAddr) {
        return InvalidArgumentError("group_by: only srcaddr and dstaddr take a prefix length: '" +
                                    std::string(item) + "'");
      }
      const std::string_view lengths = item.substr(name.size() + 1);
      const size_t slash = lengths.find('/');
      uint8_t& v4 = bit == kRowSrcAddr ? out.src_v4_bits : out.dst_v4_bits;
      uint8_t& v6 = bit == kRowSrcAddr ? out.src_v6_bits : out.dst_v6_bits;
      if (!ParseBits(lengths.substr(0, slash), 32, &v4) ||
          (slash != std::string_view::npos && !ParseBits(lengths.substr(slash + 1), 128, &v6))) {
        return InvalidArgumentError("group_by: '" + std::string(item) +
                                    "' is not ADDR/N (N 0-32) or ADDR/N/M (M 0-128)");
      }
    }
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return out;
}

bool QuerySpec::plain() const {
  return filter.accepts_all() && !grouped() && top == 0 &&
         (format == QueryFormat::kFlowLog || format == QueryFormat::kNdjson ||
          format == QueryFormat::kCsv);
}

Result<QuerySpec> ParseQuery(const QueryParams& params, bool diff) {
  QuerySpec spec;
  VPCFLOW_ASSIGN_OR_RETURN(spec.filter, Filter::Parse(params.filter));
  VPCFLOW_ASSIGN_OR_RETURN(spec.group_by, ParseGroupBy(params.group_by));

  const std::string_view conversation = Trim(params.conversation);
  if (conversation == "true" || conversation == "1") {
    spec.conversation = true;
  } else if (!conversation.empty() && conversation != "false" && conversation != "0") {
    return InvalidArgumentError("conversation: '" + std::string(conversation) +
                                "' is not true or false");
  }

  const std::string_view top = Trim(params.top);
  if (!top.empty()) {
    const auto [end, ec] = std::from_chars(top.data(), top.data() + top.size(), spec.top);
    if (ec != std::errc() || end != top.data() + top.size() || spec.top > (uint64_t{1} << 31)) {
      return InvalidArgumentError("top: '" + std::string(top) +
                                  "' is not a number of rows (0 to 2147483648)");
    }
  }

  const std::string_view by = Trim(params.by);
  if (by == "packets") {
    spec.by = RankBy::kPackets;
  } else if (by == "flows") {
    spec.by = RankBy::kFlows;
  } else if (!by.empty() && by != "bytes") {
    return InvalidArgumentError("by: '" + std::string(by) + "' is not bytes, packets or flows");
  }

  const std::string_view format = Trim(params.format);
  static constexpr QueryFormat kFormats[] = {QueryFormat::kFlowLog, QueryFormat::kNdjson,
                                             QueryFormat::kCsv,     QueryFormat::kJson,
                                             QueryFormat::kDot,     QueryFormat::kSvg};
  if (format.empty()) {
    spec.format = diff ? QueryFormat::kNdjson : QueryFormat::kFlowLog;
  } else {
    bool known = false;
    for (QueryFormat f : kFormats) {
      if (format == QueryFormatName(f)) {
        spec.format = f;
        known = true;
      }
    }
    if (!known) {
      return InvalidArgumentError("format: '" + std::string(format) +
                                  "' is not flowlog, ndjson, csv, json, dot or svg");
    }
  }
  if (diff && spec.format == QueryFormat::kFlowLog) {
    return InvalidArgumentError(
        "format: a diff has no flowlog form (a stored line has no place for the change); use "
        "ndjson, csv, json, dot or svg");
  }

  const std::string_view change = Trim(params.change);
  if (!change.empty()) {
    if (!diff) return InvalidArgumentError("change: only a diff takes it");
    const std::string text(change);
    char* end = nullptr;
    spec.change_percent = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !std::isfinite(spec.change_percent) ||
        spec.change_percent < 0) {
      return InvalidArgumentError("change: '" + text + "' is not a percentage (0 or more)");
    }
  }

  const GroupBy& g = spec.group_by;
  if (spec.conversation && g.fields != 0) {
    const bool both_addresses = (g.fields & kRowSrcAddr) && (g.fields & kRowDstAddr);
    const bool ports_alike = ((g.fields & kRowSrcPort) != 0) == ((g.fields & kRowDstPort) != 0);
    if (!both_addresses || !ports_alike || g.src_v4_bits != g.dst_v4_bits ||
        g.src_v6_bits != g.dst_v6_bits) {
      return InvalidArgumentError(
          "conversation: group_by must keep srcaddr and dstaddr (cut alike) and both ports or "
          "neither, so that A->B and B->A meet");
    }
  }
  const bool graph = spec.format == QueryFormat::kDot || spec.format == QueryFormat::kSvg;
  if (graph && g.fields != 0 && !((g.fields & kRowSrcAddr) && (g.fields & kRowDstAddr))) {
    return InvalidArgumentError("format: a graph needs srcaddr and dstaddr in group_by");
  }
  if (spec.format == QueryFormat::kSvg) {
    if (spec.top == 0) spec.top = kDefaultSvgEdges;
    if (spec.top > kMaxSvgEdges) {
      return InvalidArgumentError("top: an svg is drawn with at most " +
                                  std::to_string(kMaxSvgEdges) + " edges");
    }
  }
  return spec;
}

}  // namespace vpcflow
