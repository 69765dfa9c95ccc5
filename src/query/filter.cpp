#include "query/filter.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

constexpr size_t kExcerptChars = 72;

struct ProtocolEntry {
  std::string_view name;
  uint8_t number;
};
// The names people type; the first spelling of a number is the one ProtocolName returns.
constexpr std::array<ProtocolEntry, 11> kProtocols = {{{"icmp", 1},
                                                       {"igmp", 2},
                                                       {"tcp", 6},
                                                       {"udp", 17},
                                                       {"gre", 47},
                                                       {"esp", 50},
                                                       {"ah", 51},
                                                       {"icmpv6", 58},
                                                       {"ipv6-icmp", 58},
                                                       {"ospf", 89},
                                                       {"sctp", 132}}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

// Characters that end a bare word.
bool IsSpecial(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == '=' ||
         c == ',' || c == '!' || c == '<' || c == '>' || c == '"' || c == '\'';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Plain decimal digits into *out; false on anything else or overflow.
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Whether `a` lies in `network`/`bits` (same family).
bool InPrefix(const IpAddress& a, const IpAddress& network, uint8_t bits) {
  if (a.v4 != network.v4) return false;
  const size_t whole = bits / 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == network.bytes[whole];
}

}  // namespace

int ProtocolNumber(std::string_view name) {
  for (const ProtocolEntry& p : kProtocols) {
    if (EqualsIgnoreCase(p.name, name)) return p.number;
  }
  return -1;
}

std::string_view ProtocolName(uint8_t number) {
  for (const ProtocolEntry& p : kProtocols) {
    if (p.number == number) return p.name;
  }
  return {};
}

// Recursive descent over tokens made on the fly; every error carries the byte offset of the
// offending token.
class FilterParser {
 public:
  FilterParser(std::string_view text, Filter* out) : text_(text), out_(out) {}

  Status Run() {
    Next();
    if (token_.kind == Kind::kEnd) return OkStatus();  // empty: accept all
    VPCFLOW_ASSIGN_OR_RETURN(out_->root_, ParseOr(0));
    if (token_.kind != Kind::kEnd)
      return Error("expected 'and', 'or' or the end, found " + Found());
    return OkStatus();
  }

 private:
  enum class Kind { kEnd, kWord, kString, kLParen, kRParen, kComma, kOp, kBad };
  struct Token {
    Kind kind = Kind::kEnd;
    size_t pos = 0;
    std::string_view text;  // the word, the string's contents, or the operator
  };
  using Field = Filter::FieldId;
  using Op = Filter::Op;

  void Next() {
    size_t p = pos_;
    while (p < text_.size() && IsSpace(text_[p])) ++p;
    token_ = Token{Kind::kEnd, p, {}};
    if (p == text_.size()) {
      pos_ = p;
      return;
    }
    const char c = text_[p];
    size_t end = p + 1;
    if (c == '(' || c == ')' || c == ',') {
      token_.kind = c == '(' ? Kind::kLParen : c == ')' ? Kind::kRParen : Kind::kComma;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      if (end < text_.size() && text_[end] == '=') ++end;
      token_.kind = (c == '!' && end == p + 1) ? Kind::kBad : Kind::kOp;
    } else if (c == '"' || c == '\'') {
      const size_t close = text_.find(c, p + 1);
      if (close == std::string_view::npos) {
        token_.kind = Kind::kBad;
        end = text_.size();
      } else {
        token_.kind = Kind::kString;
        token_.text = text_.substr(p + 1, close - p - 1);
        end = close + 1;
      }
    } else {
      while (end < text_.size() && !IsSpecial(text_[end])) ++end;
      token_.kind = Kind::kWord;
    }
    if (token_.kind != Kind::kString) token_.text = text_.substr(p, end - p);
    pos_ = end;
  }

  bool IsKeyword(std::string_view keyword) const {
    return token_.kind == Kind::kWord && EqualsIgnoreCase(token_.text, keyword);
  }

  std::string Found() const {
    switch (token_.kind) {
      case Kind::kEnd:
        return "the end";
      case Kind::kBad:
        if (token_.text.front() == '!') return "'!' (not-equal is '!=')";
        return "an unterminated quoted string";
      case Kind::kString:
        return "\"" + std::string(token_.text) + "\"";
      default:
        return "'" + std::string(token_.text) + "'";
    }
  }

  Status Error(const std::string& what) const { return ErrorAt(token_.pos, what); }

  // "filter: column N: what", then the text around the column and a caret under it.
  Status ErrorAt(size_t pos, const std::string& what) const {
    // Columns and the caret count characters (UTF-8 lead bytes), not bytes.
    auto chars = [this](size_t from, size_t to) {
      size_t n = 0;
      for (size_t i = from; i < to; ++i) n += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;
      return n;
    };
    size_t from = 0;
    size_t to = text_.size();
    if (chars(0, text_.size()) > kExcerptChars) {
      from = pos > kExcerptChars / 2 ? pos - kExcerptChars / 2 : 0;
      to = std::min(text_.size(), from + kExcerptChars);
      while (from > 0 && (static_cast<unsigned char>(text_[from]) & 0xC0) == 0x80) --from;
      while (to < text_.size() && (static_cast<unsigned char>(text_[to]) & 0xC0) == 0x80) ++to;
    }
    std::string excerpt = from > 0 ? "..." : "";
    size_t caret = excerpt.size() + chars(from, pos);
    for (size_t i = from; i < to; ++i) {
      const auto c = static_cast<unsigned char>(text_[i]);
      excerpt += c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c);
    }
    if (to < text_.size()) excerpt += "...";
    return InvalidArgumentError("filter: column " + std::to_string(chars(0, pos) + 1) + ": " +
                                what + "\n  " + excerpt + "\n  " + std::string(caret, ' ') + "^");
  }

  Result<int> AddNode(Filter::NodeKind kind, int left, int right) {
    out_->nodes_.push_back({kind, left, right});
    return static_cast<int>(out_->nodes_.size() - 1);
  }

  Result<int> ParseOr(int depth) {
    VPCFLOW_ASSIGN_OR_RETURN(int left, ParseAnd(depth));
    while (IsKeyword("or")) {
      Next();
      VPCFLOW_ASSIGN_OR_RETURN(int right, ParseAnd(depth));
      VPCFLOW_ASSIGN_OR_RETURN(left, AddNode(Filter::NodeKind::kOr, left, right));
    }
    return left;
  }

  Result<int> ParseAnd(int depth) {
    VPCFLOW_ASSIGN_OR_RETURN(int left, ParseUnary(depth));
    while (IsKeyword("and")) {
      Next();
      VPCFLOW_ASSIGN_OR_RETURN(int right, ParseUnary(depth));
      VPCFLOW_ASSIGN_OR_RETURN(left, AddNode(Filter::NodeKind::kAnd, left, right));
    }
    return left;
  }

  Result<int> ParseUnary(int depth) {
    if (depth >= kMaxFilterDepth) {
      return Error("nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
    }
    if (IsKeyword("not")) {
      Next();
      VPCFLOW_ASSIGN_OR_RETURN(int child, ParseUnary(depth + 1));
      return AddNode(Filter::NodeKind::kNot, child, -1);
    }
    if (token_.kind == Kind::kLParen) {
      Next();
      VPCFLOW_ASSIGN_OR_RETURN(int inner, ParseOr(depth + 1));
      if (token_.kind != Kind::kRParen) return Error("expected ')', found " + Found());
      Next();
      return inner;
    }
    return ParseTest();
  }

  Result<Field> ParseField() {
    static constexpr std::pair<std::string_view, Field> kNames[] = {
        {"account_id", Field::kAccount},
        {"account", Field::kAccount},
        {"account-id", Field::kAccount},
        {"interface_id", Field::kInterface},
        {"interface", Field::kInterface},
        {"interface-id", Field::kInterface},
        {"srcaddr", Field::kSrcAddr},
        {"dstaddr", Field::kDstAddr},
        {"addr", Field::kAddr},
        {"srcport", Field::kSrcPort},
        {"dstport", Field::kDstPort},
        {"port", Field::kPort},
        {"protocol", Field::kProtocol},
        {"action", Field::kAction},
        {"packets", Field::kPackets},
        {"bytes", Field::kBytes},
        {"flows", Field::kFlows},
        {"start", Field::kStart},
        {"end", Field::kEnd},
    };
    if (token_.kind == Kind::kWord) {
      for (const auto& [name, field] : kNames) {
        if (EqualsIgnoreCase(token_.text, name)) {
          Next();
          return field;
        }
      }
      return Error("unknown field " + Found() +
                   " (fields: account_id, interface_id, srcaddr, dstaddr, addr, srcport, "
                   "dstport, port, protocol, action, packets, bytes, flows, start, end)");
    }
    return Error("expected a field name, found " + Found());
  }

  Result<int> ParseTest() {
    const std::string_view field_text = token_.text;
    VPCFLOW_ASSIGN_OR_RETURN(Field field, ParseField());
    Filter::Test test;
    test.field = field;
    const size_t op_pos = token_.pos;
    if (IsKeyword("not")) {
      Next();
      if (!IsKeyword("in")) return Error("expected 'in' after 'not', found " + Found());
      test.negate = true;
    }
    if (IsKeyword("in")) {
      test.op = Op::kIn;
      Next();
      VPCFLOW_RETURN_IF_ERROR(ParseValues(&test, "in"));
    } else if (token_.kind == Kind::kOp) {
      const std::string_view op = token_.text;
      test.op = op == "=" || op == "==" ? Op::kEq
                : op == "!="            ? Op::kNe
                : op == "<"             ? Op::kLt
                : op == "<="            ? Op::kLe
                : op == ">"             ? Op::kGt
                : op == ">="            ? Op::kGe
                                        : Op::kIn;
      if (test.op == Op::kIn) return Error("unknown operator " + Found());
      const bool ordered = test.op != Op::kEq && test.op != Op::kNe;
      const bool numeric = field != Field::kAccount && field != Field::kInterface &&
                           field != Field::kSrcAddr && field != Field::kDstAddr &&
                           field != Field::kAddr && field != Field::kAction;
      if (ordered && !numeric) {
        return ErrorAt(op_pos, "'" + std::string(op) + "' does not apply to " +
                                   std::string(field_text) + " (use =, != or in)");
      }
      if (test.op == Op::kNe) {
        test.op = Op::kEq;
        test.negate = true;
      }
      const std::string op_text(op);
      Next();
      VPCFLOW_RETURN_IF_ERROR(ParseValue(&test, op_text));
    } else {
      return Error("expected an operator (=, !=, <, <=, >, >=, in) after " +
                   std::string(field_text) + ", found " + Found());
    }
    if (field == Field::kFlows) out_->uses_flows_ = true;
    if (test.op == Op::kEq || test.op == Op::kIn)
      std::sort(test.numbers.begin(), test.numbers.end());
    out_->tests_.push_back(std::move(test));
    return AddNode(Filter::NodeKind::kTest, static_cast<int>(out_->tests_.size() - 1), -1);
  }

  // One value, or a parenthesised list of them.
  Status ParseValues(Filter::Test* test, std::string_view after) {
    if (token_.kind != Kind::kLParen) return ParseValue(test, after);
    Next();
    for (;;) {
      VPCFLOW_RETURN_IF_ERROR(ParseValue(test, "a list"));
      if (token_.kind == Kind::kRParen) break;
      if (token_.kind != Kind::kComma)
        return Error("expected ',' or ')' in the list, found " + Found());
      Next();
    }
    Next();
    return OkStatus();
  }

  Status ParseValue(Filter::Test* test, std::string_view after) {
    if (token_.kind != Kind::kWord && token_.kind != Kind::kString) {
      return Error(
          "expected a value " +
          std::string(after == "a list" ? "in a list" : "after '" + std::string(after) + "'") +
          ", found " + Found());
    }
    const std::string_view v = token_.text;
    switch (test->field) {
      case Field::kAccount:
      case Field::kInterface:
        test->strings.emplace_back(v);
        break;
      case Field::kSrcAddr:
      case Field::kDstAddr:
      case Field::kAddr: {
        Filter::Cidr cidr;
        VPCFLOW_RETURN_IF_ERROR(ParseCidr(v, &cidr));
        test->cidrs.push_back(cidr);
        break;
      }
      case Field::kAction:
        if (EqualsIgnoreCase(v, "accept")) {
          test->actions |= 1 << static_cast<int>(Action::kAccept);
        } else if (EqualsIgnoreCase(v, "reject")) {
          test->actions |= 1 << static_cast<int>(Action::kReject);
        } else if (v == "-") {
          test->actions |= 1 << static_cast<int>(Action::kAbsent);
        } else {
          return Error(Found() + " is not an action (ACCEPT, REJECT or -)");
        }
        break;
      case Field::kSrcPort:
      case Field::kDstPort:
      case Field::kPort: {
        uint64_t n = 0;
        if (!ParseU64(v, &n) || n > 65535) return Error(Found() + " is not a port (0-65535)");
        test->numbers.push_back(n);
        break;
      }
      case Field::kProtocol: {
        uint64_t n = 0;
        if (ParseU64(v, &n)) {
          if (n > 255) return Error(Found() + " is not a protocol number (0-255)");
        } else {
          const int named = ProtocolNumber(v);
          if (named < 0) {
            return Error(Found() +
                         " is not a protocol (a number 0-255 or tcp, udp, icmp, icmpv6, ...)");
          }
          n = static_cast<uint64_t>(named);
        }
        test->numbers.push_back(n);
        break;
      }
      case Field::kStart:
      case Field::kEnd: {
        uint64_t n = 0;
        if (!ParseU64(v, &n)) {
          Result<int64_t> t = ParseRfc3339(v);
          if (!t.ok()) return Error(Found() + " is not Unix seconds or an RFC 3339 time");
          n = static_cast<uint64_t>(*t);
        }
        test->numbers.push_back(n);
        break;
      }
      case Field::kPackets:
      case Field::kBytes:
      case Field::kFlows: {
        uint64_t n = 0;
        if (!ParseU64(v, &n)) return Error(Found() + " is not an unsigned number");
        test->numbers.push_back(n);
        break;
      }
    }
    Next();
    return OkStatus();
  }

  Status ParseCidr(std::string_view v, Filter::Cidr* out) {
    const size_t slash = v.find('/');
    const std::string_view address = v.substr(0, slash);
    if (!ParseIpAddress(address, &out->network)) {
      return Error(Found() + " is not an IPv4 or IPv6 address or CIDR");
    }
    const unsigned max_bits = out->network.v4 ? 32 : 128;
    uint64_t bits = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view length = v.substr(slash + 1);
      if (!ParseU64(length, &bits) || length.size() > 3 || bits > max_bits) {
        return ErrorAt(token_.pos + (token_.kind == Kind::kString) + slash + 1,
                       "'" + std::string(length) + "' is not a prefix length (0-" +
                           std::to_string(max_bits) + ")");
      }
    }
    out->bits = static_cast<uint8_t>(bits);
    // Clear the host bits, so a test is a compare of the masked bytes.
    const size_t size = out->network.v4 ? 4 : 16;
    for (size_t i = 0; i < size; ++i) {
      const unsigned first_bit = static_cast<unsigned>(i) * 8;
      if (first_bit >= bits) {
        out->network.bytes[i] = 0;
      } else if (first_bit + 8 > bits) {
        out->network.bytes[i] &= static_cast<uint8_t>(0xff << (first_bit + 8 - bits));
      }
    }
    return OkStatus();
  }

  std::string_view text_;
  Filter* out_;
  size_t pos_ = 0;
  Token token_;
};

Filter::Filter() = default;
Filter::~Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;

Result<Filter> Filter::Parse(std::string_view text) {
  if (text.size() > kMaxFilterBytes) {
    return InvalidArgumentError("filter: longer than " + std::to_string(kMaxFilterBytes) +
                                " bytes");
  }
  Filter filter;
  filter.text_ = std::string(text);
  FilterParser parser(filter.text_, &filter);
  VPCFLOW_RETURN_IF_ERROR(parser.Run());
  return filter;
}

bool Filter::Matches(const RowView& row) const { return root_ < 0 || EvalNode(root_, row); }

bool Filter::EvalNode(int index, const RowView& row) const {
  const Node& node = nodes_[static_cast<size_t>(index)];
  switch (node.kind) {
    case NodeKind::kAnd:
      return EvalNode(node.left, row) && EvalNode(node.right, row);
    case NodeKind::kOr:
      return EvalNode(node.left, row) || EvalNode(node.right, row);
    case NodeKind::kNot:
      return !EvalNode(node.left, row);
    case NodeKind::kTest:
      return EvalTest(tests_[static_cast<size_t>(node.left)], row) !=
             tests_[static_cast<size_t>(node.left)].negate;
  }
  return false;
}

bool Filter::EvalTest(const Test& test, const RowView& row) const {
  const FlowRecord& r = row.record;
  auto in_cidrs = [&test](const IpAddress& a) {
    for (const Cidr& c : test.cidrs) {
      if (InPrefix(a, c.network, c.bits)) return true;
    }
    return false;
  };
  auto compare = [&test](uint64_t v) {
    switch (test.op) {
      case Op::kEq:
      case Op::kIn:
      case Op::kNe:
        return std::binary_search(test.numbers.begin(), test.numbers.end(), v);
      case Op::kLt:
        return v < test.numbers[0];
      case Op::kLe:
        return v <= test.numbers[0];
      case Op::kGt:
        return v > test.numbers[0];
      case Op::kGe:
        return v >= test.numbers[0];
    }
    return false;
  };
  auto in_strings = [&test](std::string_view s) {
    return std::find(test.strings.begin(), test.strings.end(), s) != test.strings.end();
  };
  auto seconds = [](int64_t t) { return t < 0 ? uint64_t{0} : static_cast<uint64_t>(t); };
  switch (test.field) {
    case FieldId::kAccount:
      return in_strings(r.account_id);
    case FieldId::kInterface:
      return in_strings(r.interface_id);
    case FieldId::kSrcAddr:
      return in_cidrs(r.srcaddr);
    case FieldId::kDstAddr:
      return in_cidrs(r.dstaddr);
    case FieldId::kAddr:
      return in_cidrs(r.srcaddr) || in_cidrs(r.dstaddr);
    case FieldId::kSrcPort:
      return compare(r.srcport);
    case FieldId::kDstPort:
      return compare(r.dstport);
    case FieldId::kPort:
      return compare(r.srcport) || compare(r.dstport);
    case FieldId::kProtocol:
      return compare(r.protocol);
    case FieldId::kAction:
      return (test.actions >> static_cast<int>(r.action)) & 1;
    case FieldId::kPackets:
      return compare(r.packets);
    case FieldId::kBytes:
      return compare(r.bytes);
    case FieldId::kFlows:
      return compare(row.flows);
    case FieldId::kStart:
      return compare(seconds(r.start));
    case FieldId::kEnd:
      return compare(seconds(r.end));
  }
  return false;
}

}  // namespace vpcflow
