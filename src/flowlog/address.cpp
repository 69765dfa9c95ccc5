#include "flowlog/address.hpp"

#include <array>
#include <cstring>

#include "flowlog/ipv4_wide.hpp"

namespace vpcflow {
namespace {

// One octet at *p: 1-3 decimal digits, at most 255. Unrolled: this is the digest's hot path.
inline bool ParseOctet(const char*& p, const char* end, uint8_t* out) {
  if (p == end) return false;
  unsigned v = static_cast<unsigned char>(*p) - '0';
  if (v > 9) return false;
  ++p;
  if (p != end) {
    unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d <= 9) {
      v = v * 10 + d;
      ++p;
      if (p != end) {
        d = static_cast<unsigned char>(*p) - '0';
        if (d <= 9) {
          v = v * 10 + d;
          ++p;
          if (v > 255) return false;
        }
      }
    }
  }
  *out = static_cast<uint8_t>(v);
  return true;
}

// Parses "a.b.c.d" at [p, end) into out[0..3].
bool ParseIpv4(const char* p, const char* end, uint8_t* out) {
  if (!ParseOctet(p, end, &out[0])) return false;
  for (int i = 1; i < 4; ++i) {
    if (p == end || *p != '.') return false;
    ++p;
    if (!ParseOctet(p, end, &out[i])) return false;
  }
  return p == end;
}

// Dotted quad at [p, p + n) when bytes up to `readable_end` may be read.
bool ParseIpv4Fast(const char* p, size_t n, const char* readable_end, uint8_t* out) {
#if defined(__SSE2__)
  if (n < 7 || n > 15) return false;
  if (readable_end - p >= 16) return ParseIpv4Wide(p, n, out);
  char copy[16] = {};
  std::memcpy(copy, p, n);
  return ParseIpv4Wide(copy, n, out);
#else
  (void)readable_end;
  return ParseIpv4(p, p + n, out);
#endif
}

// A hex digit's value, or -1: a table, not three range tests per character.
constexpr std::array<int8_t, 256> kHexValues = [] {
  std::array<int8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<size_t>(c)] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
                                    : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
                                    : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                                           : int8_t{-1};
  }
  return table;
}();

inline int HexValue(char c) { return kHexValues[static_cast<unsigned char>(c)]; }

// RFC 4291 section 2.2: x:x:x:x:x:x:x:x with 1-4 hex digits a group, one "::" standing for one or
// more zero groups, and the last 32 bits optionally as a dotted quad.
bool ParseIpv6(const char* p, const char* end, uint8_t* out) {
  uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // index in groups where "::" stands
  if (p != end && *p == ':') {
    if (end - p < 2 || p[1] != ':') return false;  // a lone leading ':'
    gap = 0;
    p += 2;
    if (p == end) {
      std::memset(out, 0, 16);
      return true;
    }
  }
  while (true) {
    const char* group_start = p;
    unsigned value = 0;
    int digits = 0;
    while (p != end) {
      int h = HexValue(*p);
      if (h < 0) break;
      if (++digits > 4) return false;
      value = (value << 4) | static_cast<unsigned>(h);
      ++p;
    }
    if (p != end && *p == '.') {
      // Embedded IPv4: the rest of the text, taking the last two groups.
      if (count > 6) return false;
      uint8_t v4[4];
      if (!ParseIpv4(group_start, end, v4)) return false;
      groups[count++] = static_cast<uint16_t>((v4[0] << 8) | v4[1]);
      groups[count++] = static_cast<uint16_t>((v4[2] << 8) | v4[3]);
      p = end;
      break;
    }
    if (digits == 0) return false;
    if (count == 8) return false;
    groups[count++] = static_cast<uint16_t>(value);
    if (p == end) break;
    if (*p != ':') return false;
    ++p;
    if (p != end && *p == ':') {
      if (gap >= 0) return false;  // a second "::"
      gap = count;
      ++p;
      if (p == end) break;
    } else if (p == end) {
      return false;  // a trailing single ':'
    }
  }
  if (gap >= 0) {
    if (count > 7) return false;  // "::" must stand for at least one group
    int tail = count - gap;
    uint16_t full[8] = {};
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
    std::memcpy(groups, full, sizeof(groups));
  } else if (count != 8) {
    return false;
  }
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return true;
}

// Each octet's digits followed by '.' (padding after), the last two chars of '.' and its
// digits, and the number of digits: a dotted quad is a few fixed-size copies instead of a
// division for each digit.
struct OctetText {
  char text[4];
  char tail[2];
  uint8_t digits;
};

constexpr std::array<OctetText, 256> MakeOctetTexts() {
  std::array<OctetText, 256> table{};
  for (unsigned v = 0; v < 256; ++v) {
    OctetText& o = table[v];
    char d[3] = {};
    unsigned n = 0;
    if (v >= 100) d[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) d[n++] = static_cast<char>('0' + v / 10 % 10);
    d[n++] = static_cast<char>('0' + v % 10);
    for (unsigned i = 0; i < 4; ++i) o.text[i] = i < n ? d[i] : '.';
    o.tail[0] = n >= 2 ? d[n - 2] : '.';
    o.tail[1] = d[n - 1];
    o.digits = static_cast<uint8_t>(n);
  }
  return table;
}

constexpr std::array<OctetText, 256> kOctetTexts = MakeOctetTexts();

// An octet and what follows it within 4 bytes (its '.', then padding that the next octet
// overwrites).
inline char* PutOctetLoosely(const OctetText& o, char* out) {
  std::memcpy(out, o.text, 4);
  return out + o.digits + 1;
}

// An octet's digits alone: the first digit, then the last two chars of '.' and the digits (for
// one digit, the '.' before it again), so nothing after the digits is written.
inline char* PutOctetExactly(const OctetText& o, char* out) {
  out[0] = o.text[0];
  std::memcpy(out + o.digits - 2, o.tail, 2);
  return out + o.digits;
}

// Writes exactly the quad's 7-15 chars.
char* WriteDottedQuad(const uint8_t* b, char* out) {
  out = PutOctetLoosely(kOctetTexts[b[0]], out);
  out = PutOctetLoosely(kOctetTexts[b[1]], out);
  out = PutOctetExactly(kOctetTexts[b[2]], out);
  *out++ = '.';
  return PutOctetExactly(kOctetTexts[b[3]], out);
}

// Lower-case hex without leading zeros (RFC 5952 sections 4.1 and 4.3).
char* WriteHexGroup(unsigned v, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    unsigned nibble = (v >> shift) & 0xf;
    if (nibble != 0 || started || shift == 0) {
      *out++ = kHex[nibble];
      started = true;
    }
  }
  return out;
}

}  // namespace

bool ParseIpAddress(std::string_view text, const char* readable_end, IpAddress* out) {
  const char* p = text.data();
  IpAddress a;
  // Flow logs are mostly IPv4: try it first.
  if (ParseIpv4Fast(p, text.size(), readable_end, a.bytes.data())) {
    a.v4 = true;
  } else if (!ParseIpv6(p, p + text.size(), a.bytes.data())) {
    return false;
  }
  *out = a;
  return true;
}

bool ParseIpAddress(std::string_view text, IpAddress* out) {
  return ParseIpAddress(text, text.data() + text.size(), out);
}

size_t FormatIpAddress(const IpAddress& address, char* out) {
  const uint8_t* b = address.bytes.data();
  char* p = out;
  if (address.v4) return static_cast<size_t>(WriteDottedQuad(b, p) - out);

  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMappedPrefix, 12) == 0) {
    constexpr std::string_view kMapped = "::ffff:";
    std::memcpy(p, kMapped.data(), kMapped.size());  // NOLINT(bugprone-not-null-terminated-result)
    return static_cast<size_t>(WriteDottedQuad(b + 12, p + kMapped.size()) - out);
  }

  unsigned groups[8];
  for (size_t i = 0; i < 8; ++i) groups[i] = (unsigned{b[2 * i]} << 8) | b[2 * i + 1];
  // Section 4.2: the longest run of two or more zero groups becomes "::", the first on ties.
  int best_start = -1;
  int best_len = 1;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  for (int i = 0; i < 8;) {
    if (i == best_start) {
      *p++ = ':';
      *p++ = ':';
      i += best_len;
      continue;
    }
    if (i > 0 && i != best_start + best_len) *p++ = ':';
    p = WriteHexGroup(groups[i], p);
    ++i;
  }
  return static_cast<size_t>(p - out);
}

}  // namespace vpcflow
