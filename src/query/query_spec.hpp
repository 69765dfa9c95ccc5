#pragma once
/// What a query asks for (DESIGN.md, "Queries"): the parameters as text, exactly as the API's
/// query string and the CLI's options carry them (QueryParams), and their parsed, checked form
/// (QuerySpec). One parser for both, so both give the same answers and the same messages.
/// Pure, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "query/filter.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// The parameters as text; an empty string is "not given". Every member has a default
/// initializer, so a designated initializer may name only the parameters it gives.
struct QueryParams {
  std::string filter{};        ///< Filter::Parse
  std::string group_by{};      ///< "srcaddr/24,dstaddr/24/64,dstport" (ParseGroupBy)
  std::string conversation{};  ///< "true" | "false" | "1" | "0"
  std::string top{};           ///< N: the N largest rows (0 = all)
  std::string by{};            ///< "bytes" (default) | "packets" | "flows"
  std::string format{};        ///< "flowlog" (default) | "ndjson" | "csv" | "json" | "dot" | "svg"
  std::string change{};        ///< diffs: percent (default kDefaultChangePercent)
};

/// Output formats of a query.
enum class QueryFormat { kFlowLog, kNdjson, kCsv, kJson, kDot, kSvg };
std::string_view QueryFormatName(QueryFormat format);
/// The media type of a format's bytes ("text/plain; charset=utf-8", "application/x-ndjson",
/// "text/csv; charset=utf-8", "application/json", "text/vnd.graphviz", "image/svg+xml").
std::string_view QueryFormatMediaType(QueryFormat format);

/// What rows are ranked by (`by`).
enum class RankBy { kBytes, kPackets, kFlows };

/// Which key fields a group keeps, and how much of each address: IPv4 addresses are cut to
/// `*_v4_bits`, IPv6 ones to `*_v6_bits` (32 and 128 keep them whole).
struct GroupBy {
  uint16_t fields = 0;  ///< RowFieldBits; 0 = no grouping
  uint8_t src_v4_bits = 32;
  uint8_t src_v6_bits = 128;
  uint8_t dst_v4_bits = 32;
  uint8_t dst_v6_bits = 128;
};

/// Parses a group_by list: comma-separated key fields (account_id, interface_id, srcaddr,
/// dstaddr, srcport, dstport, protocol, action; also `account` and `interface`), an address
/// optionally followed by "/N" (IPv4 cut to N bits, IPv6 kept whole) or "/N/M" (IPv6 cut to M
/// bits). Spaces around items are ignored. Returns InvalidArgument naming the item for an
/// unknown field, a field named twice, or a bad length; an empty list means no grouping.
Result<GroupBy> ParseGroupBy(std::string_view text);

/// The most edges an SVG is rendered with, and the default when `top` is not given.
inline constexpr uint64_t kMaxSvgEdges = 2000;
inline constexpr uint64_t kDefaultSvgEdges = 300;
/// The default `change` of a diff, in percent.
inline constexpr double kDefaultChangePercent = 50;

/// A parsed query.
struct QuerySpec {
  Filter filter;
  GroupBy group_by;
  bool conversation = false;
  uint64_t top = 0;  ///< 0 = every row (for svg: kDefaultSvgEdges unless given)
  RankBy by = RankBy::kBytes;
  QueryFormat format = QueryFormat::kFlowLog;
  double change_percent = kDefaultChangePercent;

  /// Whether answering needs the flows count (filter or `by` uses it).
  bool needs_flows() const { return filter.uses_flows() || by == RankBy::kFlows; }
  /// Whether rows are grouped (group_by or conversation).
  bool grouped() const { return group_by.fields != 0 || conversation; }
  /// True when the query is the digest itself (no filter, grouping, top) in flowlog, ndjson
  /// or csv: the caller may serve the digest's own encoding.
  bool plain() const;
};

/// Parses and checks `params`. Returns InvalidArgument naming the parameter: "filter: ..."
/// (Filter::Parse), "group_by: ...", "conversation: ...", "top: ...", "by: ...", "format: ...",
/// "change: ...". Checks across parameters: conversation=true needs group_by (when given) to
/// hold srcaddr and dstaddr cut alike and both ports or neither; dot and svg need srcaddr and
/// dstaddr in group_by (when given); svg takes top up to kMaxSvgEdges. `change` is for diffs
/// only. A diff (`diff` true) has format ndjson by default and refuses flowlog (a stored line
/// has no place for the change).
Result<QuerySpec> ParseQuery(const QueryParams& params, bool diff = false);

}  // namespace vpcflow
