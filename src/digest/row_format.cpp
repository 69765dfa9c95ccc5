#include "digest/row_format.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/json_string.hpp"
#include "digest/digest_table.hpp"

namespace vpcflow {
namespace {

inline char* Put(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

template <typename Entry>
RowView RowViewOf(const Entry& entry, std::string_view account, std::string_view interface) {
  const auto& k = entry.key;
  const DigestValue& v = entry.value;
  RowView out;
  FlowRecord& r = out.record;
  r.account_id = account;
  r.interface_id = interface;
  r.srcaddr = k.srcaddr();
  r.dstaddr = k.dstaddr();
  r.srcport = k.srcport;
  r.dstport = k.dstport;
  r.protocol = k.protocol;
  r.action = k.action();
  r.packets = v.packets;
  r.bytes = v.bytes;
  r.start = v.start;
  r.end = v.end;
  out.flows = v.flows;
  return out;
}

// The two digits of v < 100.
inline const char* DigitPair(uint32_t v) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  return kPairs + size_t{2} * v;
}

}  // namespace

// Values below 2^32 (ports, protocols, 10-digit times, most counts) in 32-bit arithmetic, two
// digits a step from a table: 9-10 digits (times) in fixed steps, shorter ones with their
// length known first (no loop to measure it). Larger values as std::to_chars writes them.
char* PutDecimal(char* out, uint64_t v) {
  if (v < 10) {
    *out = static_cast<char>('0' + v);
    return out + 1;
  }
  if (v > UINT32_MAX) return std::to_chars(out, out + 20, v).ptr;
  static constexpr uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                          100000, 1000000, 10000000, 100000000, 1000000000};
  auto x = static_cast<uint32_t>(v);
  if (x >= 100000000) {  // 9 or 10 digits (times): fixed steps, no loop
    const uint32_t hi = x / 100000000;
    const uint32_t lo = x - hi * 100000000;
    if (hi >= 10) {
      std::memcpy(out, DigitPair(hi), 2);
      out += 2;
    } else {
      *out++ = static_cast<char>('0' + hi);
    }
    const uint32_t a = lo / 10000;
    const uint32_t b = lo - a * 10000;
    std::memcpy(out, DigitPair(a / 100), 2);
    std::memcpy(out + 2, DigitPair(a % 100), 2);
    std::memcpy(out + 4, DigitPair(b / 100), 2);
    std::memcpy(out + 6, DigitPair(b % 100), 2);
    return out + 8;
  }
  // floor(log10(2^bits)) by 1233/4096 ~ log10(2), then one comparison: the digit count.
  const unsigned log = ((32 - static_cast<unsigned>(__builtin_clz(x))) * 1233) >> 12;
  const unsigned digits = log + (x >= kPow10[log] ? 1 : 0);
  char* p = out + digits;
  while (x >= 100) {
    const uint32_t q = x / 100;
    p -= 2;
    std::memcpy(p, DigitPair(x - 100 * q), 2);
    x = q;
  }
  if (x >= 10) {
    std::memcpy(p - 2, DigitPair(x), 2);
  } else {
    p[-1] = static_cast<char>('0' + x);
  }
  return out + digits;
}
char* PutDecimal(char* out, int64_t v) {
  if (v >= 0) return PutDecimal(out, static_cast<uint64_t>(v));
  return std::to_chars(out, out + 20, v).ptr;
}

RowView MakeRowView(const DigestEntry& entry, std::string_view account,
                    std::string_view interface) {
  return RowViewOf(entry, account, interface);
}

RowView MakeRowView(const DigestEntryV4& entry, std::string_view account,
                    std::string_view interface) {
  return RowViewOf(entry, account, interface);
}

size_t RowRoom(const RowView& row) {
  return 512 + kJsonEscapeFactor * (row.record.account_id.size() + row.record.interface_id.size());
}

char* PutAddressText(char* out, const IpAddress& address, uint8_t bits) {
  out += FormatIpAddress(address, out);
  if (bits < (address.v4 ? 32 : 128)) {
    *out++ = '/';
    out = PutDecimal(out, uint64_t{bits});
  }
  return out;
}

char* PutFlowLogLine(char* p, const RowView& row) {
  const FlowRecord& r = row.record;
  const uint16_t f = row.fields;
  p = Put(p, "2 ");
  p = Put(p, (f & kRowAccount) ? r.account_id : "-");
  *p++ = ' ';
  p = Put(p, (f & kRowInterface) ? r.interface_id : "-");
  *p++ = ' ';
  p = (f & kRowSrcAddr) ? PutAddressText(p, r.srcaddr, row.srcaddr_bits) : Put(p, "-");
  *p++ = ' ';
  p = (f & kRowDstAddr) ? PutAddressText(p, r.dstaddr, row.dstaddr_bits) : Put(p, "-");
  *p++ = ' ';
  p = (f & kRowSrcPort) ? PutDecimal(p, uint64_t{r.srcport}) : Put(p, "-");
  *p++ = ' ';
  p = (f & kRowDstPort) ? PutDecimal(p, uint64_t{r.dstport}) : Put(p, "-");
  *p++ = ' ';
  p = (f & kRowProtocol) ? PutDecimal(p, uint64_t{r.protocol}) : Put(p, "-");
  *p++ = ' ';
  p = PutDecimal(p, r.packets);
  *p++ = ' ';
  p = PutDecimal(p, r.bytes);
  *p++ = ' ';
  p = PutDecimal(p, r.start);
  *p++ = ' ';
  p = PutDecimal(p, r.end);
  *p++ = ' ';
  p = Put(p, ActionName((f & kRowAction) ? r.action : Action::kAbsent));
  return Put(p, " OK\n");
}

char* PutNdjsonMembers(char* p, const RowView& row) {
  const FlowRecord& r = row.record;
  const uint16_t f = row.fields;
  auto string = [&p](std::string_view key, bool present, std::string_view value) {
    p = Put(p, key);
    if (!present) {
      p = Put(p, "null");
      return;
    }
    *p++ = '"';
    p = PutJsonStringContent(p, value);
    *p++ = '"';
  };
  auto address = [&p](std::string_view key, bool present, const IpAddress& a, uint8_t bits) {
    p = Put(p, key);
    if (!present) {
      p = Put(p, "null");
      return;
    }
    *p++ = '"';
    p = PutAddressText(p, a, bits);
    *p++ = '"';
  };
  auto number = [&p](std::string_view key, bool present, uint64_t value) {
    p = Put(p, key);
    p = present ? PutDecimal(p, value) : Put(p, "null");
  };
  string("\"account_id\":", f & kRowAccount, r.account_id);
  string(",\"interface_id\":", f & kRowInterface, r.interface_id);
  address(",\"srcaddr\":", f & kRowSrcAddr, r.srcaddr, row.srcaddr_bits);
  address(",\"dstaddr\":", f & kRowDstAddr, r.dstaddr, row.dstaddr_bits);
  number(",\"srcport\":", f & kRowSrcPort, r.srcport);
  number(",\"dstport\":", f & kRowDstPort, r.dstport);
  number(",\"protocol\":", f & kRowProtocol, r.protocol);
  string(",\"action\":", f & kRowAction, ActionName(r.action));
  number(",\"packets\":", true, r.packets);
  number(",\"bytes\":", true, r.bytes);
  number(",\"flows\":", row.has_flows, row.flows);
  p = Put(p, ",\"start\":");
  p = PutDecimal(p, r.start);
  p = Put(p, ",\"end\":");
  return PutDecimal(p, r.end);
}

char* PutCsvColumns(char* p, const RowView& row) {
  const FlowRecord& r = row.record;
  const uint16_t f = row.fields;
  if (f & kRowAccount) p = PutCsvField(p, r.account_id);
  *p++ = ',';
  if (f & kRowInterface) p = PutCsvField(p, r.interface_id);
  *p++ = ',';
  if (f & kRowSrcAddr) p = PutAddressText(p, r.srcaddr, row.srcaddr_bits);
  *p++ = ',';
  if (f & kRowDstAddr) p = PutAddressText(p, r.dstaddr, row.dstaddr_bits);
  *p++ = ',';
  if (f & kRowSrcPort) p = PutDecimal(p, uint64_t{r.srcport});
  *p++ = ',';
  if (f & kRowDstPort) p = PutDecimal(p, uint64_t{r.dstport});
  *p++ = ',';
  if (f & kRowProtocol) p = PutDecimal(p, uint64_t{r.protocol});
  *p++ = ',';
  if (f & kRowAction) p = Put(p, ActionName(r.action));
  *p++ = ',';
  p = PutDecimal(p, r.packets);
  *p++ = ',';
  p = PutDecimal(p, r.bytes);
  *p++ = ',';
  if (row.has_flows) p = PutDecimal(p, row.flows);
  *p++ = ',';
  p = PutDecimal(p, r.start);
  *p++ = ',';
  return PutDecimal(p, r.end);
}

char* PutCsvField(char* p, std::string_view s) {
  if (std::none_of(s.begin(), s.end(),
                   [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; })) {
    return Put(p, s);
  }
  *p++ = '"';
  for (char c : s) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  return p;
}

}  // namespace vpcflow
