#pragma once
/// Filter expressions over digest rows: the `filter` parameter of a query (DESIGN.md,
/// "Queries").
///
/// Grammar (keywords, field names, protocol and action names are case-insensitive):
///
///     expr   := and { "or" and }
///     and    := unary { "and" unary }
///     unary  := "not" unary | "(" expr ")" | test
///     test   := field op value
///             | field ["not"] "in" ( value | "(" value { "," value } ")" )
///     op     := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
///
/// Fields and their values:
/// - `account_id` (`account`, `account-id`), `interface_id` (`interface`, `interface-id`):
///   text, compared exactly; `=`, `!=`, `in`.
/// - `srcaddr`, `dstaddr`, `addr` (either end): an IPv4 or IPv6 address or CIDR
///   (`10.0.0.0/8`, `2001:db8::/32`, `::/0`); `=` and `in` test membership, `!=` its negation.
///   Host bits after the prefix are ignored. An IPv4 CIDR matches IPv4 addresses only and an
///   IPv6 one IPv6 addresses only (so `::ffff:0:0/96` matches IPv4-mapped IPv6 addresses).
/// - `srcport`, `dstport`, `port` (either end): 0-65535; `protocol`: 0-255 or a name (`tcp`,
///   `udp`, `icmp`, `icmpv6`, ... see ProtocolNumber); `packets`, `bytes`, `flows`: unsigned
///   numbers; `start`, `end`: Unix seconds or an RFC 3339 time. All operators.
/// - `action`: `ACCEPT`, `REJECT` or `-` (absent); `=`, `!=`, `in`.
/// A value is a bare word (any run of characters other than spaces and `()=,!<>"'`) or a
/// quoted string ('...' or "...", no escapes). `a != v` is `not a = v` and `a not in L` is
/// `not a in L`, also for the either-end fields (so `addr != X`: neither end is X).
///
/// A filter applies to the rows of the digest, before any grouping. Evaluation is a walk of
/// the compiled tree: no allocation, thread-safe on a const Filter.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "digest/row_format.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Longest filter text accepted (bytes).
inline constexpr size_t kMaxFilterBytes = size_t{16} * 1024;
/// Deepest nesting of parentheses and `not` accepted.
inline constexpr int kMaxFilterDepth = 64;

/// The protocol number of a name (case-insensitive: "tcp" 6, "udp" 17, "icmp" 1, "icmpv6" and
/// "ipv6-icmp" 58, "igmp" 2, "gre" 47, "esp" 50, "ah" 51, "ospf" 89, "sctp" 132), or -1.
int ProtocolNumber(std::string_view name);
/// The usual name of a protocol number ("tcp"), or "" when it has none in that list.
std::string_view ProtocolName(uint8_t number);

class Filter {
 public:
  /// The filter that accepts every row.
  Filter();
  ~Filter();
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;

  /// Parses `text` (empty or only spaces: accepts every row). Returns InvalidArgument with a
  /// message that names the column (1-based, in characters) and shows where:
  ///     filter: column 12: expected a value after 'in', found the end
  ///       dstport in
  ///                 ^
  /// (long expressions are cut to the part around the column, control characters shown as
  /// spaces). Also InvalidArgument when `text` is longer than kMaxFilterBytes or nests deeper
  /// than kMaxFilterDepth.
  static Result<Filter> Parse(std::string_view text);

  /// Whether `row` passes.
  bool Matches(const RowView& row) const;
  /// True when the expression reads `flows` (a stored flowlog digest lacks it).
  bool uses_flows() const { return uses_flows_; }
  /// True for the filter that accepts every row.
  bool accepts_all() const { return root_ < 0; }
  /// The text it was parsed from.
  const std::string& text() const { return text_; }

 private:
  friend class FilterParser;

  enum class FieldId : uint8_t {
    kAccount,
    kInterface,
    kSrcAddr,
    kDstAddr,
    kAddr,
    kSrcPort,
    kDstPort,
    kPort,
    kProtocol,
    kAction,
    kPackets,
    kBytes,
    kFlows,
    kStart,
    kEnd,
  };
  enum class Op : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn };
  struct Cidr {
    IpAddress network;  // host bits cleared
    uint8_t bits = 0;
  };
  // One comparison. `negate` turns it into its negation (!=, not in).
  struct Test {
    FieldId field{};
    Op op = Op::kEq;  // kEq and kIn both test membership in the values below
    bool negate = false;
    std::vector<uint64_t> numbers;     // numeric fields (also start/end, as seconds)
    std::vector<Cidr> cidrs;           // address fields
    std::vector<std::string> strings;  // account_id, interface_id
    uint8_t actions = 0;               // bit per Action
  };
  enum class NodeKind : uint8_t { kAnd, kOr, kNot, kTest };
  struct Node {
    NodeKind kind{};
    int left = -1;  // kAnd, kOr, kNot: children; kTest: index into tests_
    int right = -1;
  };

  bool EvalNode(int node, const RowView& row) const;
  bool EvalTest(const Test& test, const RowView& row) const;

  std::string text_;
  std::vector<Node> nodes_;
  std::vector<Test> tests_;
  int root_ = -1;
  bool uses_flows_ = false;
};

}  // namespace vpcflow
