#include "flowlog/line_parser.hpp"

#include <cstring>

#include "common/little_endian.hpp"
#include "flowlog/tokenizer.hpp"

namespace vpcflow {
namespace {

// One token of the line.
struct Token {
  const char* data;
  size_t size;
  std::string_view view() const { return {data, size}; }
  bool IsDash() const { return size == 1 && data[0] == '-'; }
};

// The tokens of a split line, by column.
struct Tokens {
  const char* line;
  const uint32_t* bounds;
  Token operator[](int column) const {
    const size_t i = 2 * static_cast<size_t>(column);
    return Token{line + bounds[i], bounds[i + 1] - bounds[i]};
  }
};

constexpr uint64_t kAsciiZeros = 0x3030303030303030;

// The eight bytes at p, the first in the lowest byte.
inline uint64_t Load8(const char* p) { return LoadLittleEndian64(p); }

// Eight ASCII digits (the first in the lowest byte) as a number, or false when one is not a
// digit: the SWAR technique of simdjson's is_made_of_eight_digits / parse_eight_digits.
inline bool EightDigits(uint64_t v, uint64_t* out) {
  if (((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) !=
      0x3333333333333333) {
    return false;
  }
  v -= kAsciiZeros;
  v = v * 10 + (v >> 8);
  constexpr uint64_t kMask = 0x000000FF000000FF;
  constexpr uint64_t kMul1 = 100 + (1000000ULL << 32);
  constexpr uint64_t kMul2 = 1 + (10000ULL << 32);
  *out = (((v & kMask) * kMul1) + (((v >> 16) & kMask) * kMul2)) >> 32;
  return true;
}

// 1 to 8 digits at p when 8 bytes from p may be read: the digits are moved to the top bytes and
// the bottom filled with '0' (leading zeros), then converted as eight.
inline bool FewDigits(const char* p, size_t n, uint64_t* out) {
  uint64_t v = Load8(p);
  const unsigned shift = static_cast<unsigned>(8 - n) * 8;
  if (shift != 0) v = (v << shift) | (kAsciiZeros >> (64 - shift));
  return EightDigits(v, out);
}

// Plain decimal digits (no sign), at most 20 of them, fitting uint64_t. `line_end` bounds the
// bytes that may be read: a short token is read as 8 bytes when the line goes on that far.
bool ParseUnsigned(const Token& t, const char* line_end, uint64_t* out) {
  const char* p = t.data;
  size_t n = t.size;
  if (n == 0 || n > 20) return false;
  uint64_t v = 0;
  // The first chunk takes 1-8 digits so that the rest are whole chunks of 8.
  const size_t first = n - 8 * ((n - 1) / 8);
  if (line_end - p >= 8) {
    if (!FewDigits(p, first, &v)) return false;
  } else {
    for (size_t i = 0; i < first; ++i) {
      unsigned d = static_cast<unsigned char>(p[i]) - '0';
      if (d > 9) return false;
      v = v * 10 + d;
    }
  }
  for (size_t i = first; i < n; i += 8) {
    uint64_t eight;
    if (!EightDigits(Load8(p + i), &eight)) return false;
    // At most 19 digits cannot overflow; 20 may.
    if (n == 20) {
      if (__builtin_mul_overflow(v, uint64_t{100'000'000}, &v) ||
          __builtin_add_overflow(v, eight, &v)) {
        return false;
      }
    } else {
      v = v * 100'000'000 + eight;
    }
  }
  *out = v;
  return true;
}

// A count (packets, bytes): '-' or an absent column is 0 (DESIGN.md digest rule 3).
bool ParseCount(int column, const Tokens& tokens, const char* line_end, uint64_t* out) {
  if (column < 0 || tokens[column].IsDash()) {
    *out = 0;
    return true;
  }
  return ParseUnsigned(tokens[column], line_end, out);
}

bool ParseTime(const Token& t, const char* line_end, int64_t* out) {
  uint64_t v;
  if (!ParseUnsigned(t, line_end, &v)) return false;
  *out = TimeSeconds(v);  // below 2^64 / 1000 once divided: fits int64_t
  return true;
}

}  // namespace

LineOutcome LogStatusOutcome(std::string_view status) {
  if (status == "OK" || status == "-") return LineOutcome::kUsed;
  if (status == "NODATA") return LineOutcome::kStatusNoData;
  if (status == "SKIPDATA") return LineOutcome::kStatusSkipData;
  return LineOutcome::kStatusOther;
}

bool ParseAction(std::string_view value, Action* out) {
  if (value == "ACCEPT") {
    *out = Action::kAccept;
  } else if (value == "REJECT") {
    *out = Action::kReject;
  } else if (value == "-") {
    *out = Action::kAbsent;
  } else {
    return false;
  }
  return true;
}

bool ParseDecimal(std::string_view digits, uint64_t* out) {
  return ParseUnsigned(Token{digits.data(), digits.size()}, digits.data() + digits.size(), out);
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kAccept:
      return "ACCEPT";
    case Action::kReject:
      return "REJECT";
    case Action::kAbsent:
      break;
  }
  return "-";
}

LineOutcome ParseFlowLine(const FlowFormat& format, std::string_view line, FlowRecord* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t columns = format.column_count();
  uint32_t bounds[2 * kMaxLineColumns + kTokenBoundsSlack];  // uninitialised on purpose
  size_t n = SplitOnSpaces(line, columns < kMaxLineColumns ? columns : kMaxLineColumns, bounds);
  if (n == 0) return LineOutcome::kBlank;
  if (n != columns || n > kMaxLineColumns) return LineOutcome::kBadTokenCount;
  const Tokens tokens{line.data(), bounds};

  // Column indices into locals first: the stores into *out below may alias anything (bytes).
  const int c_status = format.ColumnOf(Field::kLogStatus);
  const int c_src = format.ColumnOf(Field::kSrcAddr);
  const int c_dst = format.ColumnOf(Field::kDstAddr);
  const int c_sport = format.ColumnOf(Field::kSrcPort);
  const int c_dport = format.ColumnOf(Field::kDstPort);
  const int c_proto = format.ColumnOf(Field::kProtocol);
  const int c_start = format.ColumnOf(Field::kStart);
  const int c_end = format.ColumnOf(Field::kEnd);
  const int c_packets = format.ColumnOf(Field::kPackets);
  const int c_bytes = format.ColumnOf(Field::kBytes);
  const int c_action = format.ColumnOf(Field::kAction);
  const int c_account = format.ColumnOf(Field::kAccountId);
  const int c_interface = format.ColumnOf(Field::kInterfaceId);

  if (c_status >= 0) {
    const LineOutcome status = LogStatusOutcome(tokens[c_status].view());
    if (status != LineOutcome::kUsed) return status;
  }

  for (int c : {c_src, c_dst, c_sport, c_dport, c_proto, c_start, c_end}) {
    if (c < 0 || tokens[c].IsDash()) return LineOutcome::kIncomplete;
  }

  const char* e = line.data() + line.size();
  IpAddress src, dst;
  if (!ParseIpAddress(tokens[c_src].view(), e, &src) ||
      !ParseIpAddress(tokens[c_dst].view(), e, &dst)) {
    return LineOutcome::kBadAddress;
  }

  uint64_t sport, dport, proto, packets, bytes;
  int64_t start, end;
  if (!ParseUnsigned(tokens[c_sport], e, &sport) || sport > 65535 ||
      !ParseUnsigned(tokens[c_dport], e, &dport) || dport > 65535 ||
      !ParseUnsigned(tokens[c_proto], e, &proto) || proto > 255) {
    return LineOutcome::kBadNumber;
  }
  if (!ParseTime(tokens[c_start], e, &start) || !ParseTime(tokens[c_end], e, &end) || end < start) {
    return LineOutcome::kBadNumber;
  }
  if (!ParseCount(c_packets, tokens, e, &packets) || !ParseCount(c_bytes, tokens, e, &bytes)) {
    return LineOutcome::kBadNumber;
  }

  Action action = Action::kAbsent;
  if (c_action >= 0 && !ParseAction(tokens[c_action].view(), &action))
    return LineOutcome::kBadValue;

  out->account_id = c_account < 0 ? std::string_view("-") : tokens[c_account].view();
  out->interface_id = c_interface < 0 ? std::string_view("-") : tokens[c_interface].view();
  out->srcaddr = src;
  out->dstaddr = dst;
  out->srcport = static_cast<uint16_t>(sport);
  out->dstport = static_cast<uint16_t>(dport);
  out->protocol = static_cast<uint8_t>(proto);
  out->action = action;
  out->packets = packets;
  out->bytes = bytes;
  out->start = start;
  out->end = end;
  return LineOutcome::kUsed;
}

}  // namespace vpcflow
