#include "flowlog/address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "flowlog/cpu_features.hpp"
#include "flowlog/ipv4_wide.hpp"

namespace vpcflow {
namespace {

std::string Format(const IpAddress& a) {
  char buf[kMaxIpTextLength];
  return std::string(buf, FormatIpAddress(a, buf));
}

// Parses and formats; "!" when the text is rejected.
std::string Normalize(std::string_view text) {
  IpAddress a;
  if (!ParseIpAddress(text, &a)) return "!";
  return Format(a);
}

struct Normalized {
  const char* text;
  const char* canonical;
};

void ExpectNormalized(std::initializer_list<Normalized> cases) {
  for (const Normalized& c : cases) EXPECT_EQ(Normalize(c.text), c.canonical) << c.text;
}

IpAddress V6(std::initializer_list<uint16_t> groups) {
  IpAddress a;
  int i = 0;
  for (uint16_t g : groups) {
    a.bytes[i++] = static_cast<uint8_t>(g >> 8);
    a.bytes[i++] = static_cast<uint8_t>(g & 0xff);
  }
  return a;
}

TEST(Ipv4Test, ParsesDottedQuads) {
  IpAddress a;
  ASSERT_TRUE(ParseIpAddress("172.31.16.139", &a));
  EXPECT_TRUE(a.v4);
  EXPECT_EQ(a.bytes[0], 172);
  EXPECT_EQ(a.bytes[1], 31);
  EXPECT_EQ(a.bytes[2], 16);
  EXPECT_EQ(a.bytes[3], 139);
  for (size_t i = 4; i < 16; ++i) EXPECT_EQ(a.bytes[i], 0);
  ExpectNormalized({{"0.0.0.0", "0.0.0.0"},
                    {"255.255.255.255", "255.255.255.255"},
                    {"10.0.0.1", "10.0.0.1"},
                    {"1.22.133.4", "1.22.133.4"},
                    // Leading zeros are decimal, not octal.
                    {"010.001.000.009", "10.1.0.9"},
                    {"000.000.000.000", "0.0.0.0"}});
}

TEST(Ipv4Test, RejectsMalformed) {
  for (const char* bad :
       {"",         ".",          "1.2.3",     "1.2.3.4.",  ".1.2.3.4",   "1.2.3.4.5",
        "1..2.3",   "256.1.1.1",  "1.1.1.256", "1.1.1.999", "0001.1.1.1", "1.1.1.0001",
        "+1.1.1.1", "-1.1.1.1",   "1.1.1.1 ",  " 1.1.1.1",  "1.1.1.a",    "a.b.c.d",
        "1,1,1,1",  "1.1.1.1/32", "-",         "1.2.3.4\r"}) {
    EXPECT_EQ(Normalize(bad), "!") << "'" << bad << "'";
  }
}

struct Parsed {
  const char* text;
  IpAddress address;
};

void ExpectParsed(std::initializer_list<Parsed> cases) {
  for (const Parsed& c : cases) {
    IpAddress a;
    ASSERT_TRUE(ParseIpAddress(c.text, &a)) << c.text;
    EXPECT_FALSE(a.v4) << c.text;
    EXPECT_EQ(a, c.address) << c.text;
  }
}

TEST(Ipv6Test, ParsesEveryRfc4291Form) {
  ExpectParsed({
      {"2001:db8:1234:a100:8d6e:3477:df66:f105",
       V6({0x2001, 0xdb8, 0x1234, 0xa100, 0x8d6e, 0x3477, 0xdf66, 0xf105})},
      {"::", V6({0, 0, 0, 0, 0, 0, 0, 0})},
      {"::1", V6({0, 0, 0, 0, 0, 0, 0, 1})},
      {"1::", V6({1, 0, 0, 0, 0, 0, 0, 0})},
      {"2a02:cf40::", V6({0x2a02, 0xcf40, 0, 0, 0, 0, 0, 0})},
      {"1:2:3:4:5:6:7::", V6({1, 2, 3, 4, 5, 6, 7, 0})},  // "::" for one group: valid input
      {"::2:3:4:5:6:7:8", V6({0, 2, 3, 4, 5, 6, 7, 8})},
      {"FE80::ABCD:Ef01", V6({0xfe80, 0, 0, 0, 0, 0, 0xabcd, 0xef01})},
      {"0000:0000:0000:0000:0000:0000:0000:0001", V6({0, 0, 0, 0, 0, 0, 0, 1})},
  });
}

TEST(Ipv6Test, ParsesEmbeddedIpv4) {
  ExpectParsed({
      {"::ffff:1.2.3.4", V6({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304})},
      {"::FFFF:192.0.2.1", V6({0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201})},
      {"0:0:0:0:0:ffff:10.0.0.1", V6({0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001})},
      {"64:ff9b::192.0.2.33", V6({0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221})},  // RFC 6052
      {"::1.2.3.4", V6({0, 0, 0, 0, 0, 0, 0x0102, 0x0304})},
      {"1:2:3:4:5::1.2.3.4", V6({1, 2, 3, 4, 5, 0, 0x0102, 0x0304})},
  });
}

TEST(Ipv6Test, RejectsMalformed) {
  for (const char* bad : {":",
                          ":::",
                          "1:2:3:4:5:6:7",
                          "1:2:3:4:5:6:7:8:9",
                          "1::2::3",
                          "::1::",
                          "1:::2",
                          ":1::2",
                          "1::2:",
                          "1:2:3:4:5:6:7:8:",
                          ":1:2:3:4:5:6:7:8",
                          "12345::",
                          "1::12345",
                          "g::1",
                          "1:2:3:4:5:6:7:8::",
                          "::1:2:3:4:5:6:7:8",
                          "1:2:3:4::5:6:7:8",
                          "fe80::1%eth0",
                          "fe80::1%1",
                          "::ffff:1.2.3",
                          "::ffff:1.2.3.4.5",
                          "::ffff:256.1.1.1",
                          "::1.2.3.4:5",
                          "1:2:3:4:5:6:7:1.2.3.4",
                          "1:2:3:4:5:6::1.2.3.4",
                          "::ffff:1.2.3.4:",
                          "1.2.3.4::",
                          "[::1]",
                          "::1 ",
                          " ::1",
                          "::-1",
                          "2001:db8::/32",
                          "::ffff:0x1.2.3.4"}) {
    EXPECT_EQ(Normalize(bad), "!") << "'" << bad << "'";
  }
}

TEST(Ipv6Test, Rfc5952Section4Examples) {
  ExpectNormalized({
      // 4.1: leading zeros suppressed; "0000" is "0".
      {"2001:0db8::0001", "2001:db8::1"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:01", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"},
      // 4.2.1: "::" shortens as much as possible.
      {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
      {"2001:db8::0:1", "2001:db8::1"},
      // 4.2.2: a single 16-bit 0 field is not shortened.
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      // 4.2.3: the longest run; the first on ties.
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      // 4.3: lower case.
      {"2001:DB8::ABCD", "2001:db8::abcd"},
  });
}

TEST(Ipv6Test, Rfc5952Section2SpellingsAgree) {
  for (const char* spelling :
       {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8::0:1:0:0:1",
        "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1", "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"}) {
    EXPECT_EQ(Normalize(spelling), "2001:db8::1:0:0:1") << spelling;
  }
}

TEST(Ipv6Test, FormatsEdges) {
  ExpectNormalized({
      {"0:0:0:0:0:0:0:0", "::"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"1:0:0:0:0:0:0:1", "1::1"},
      {"0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"},
      {"1:0:1:0:0:1:0:0", "1:0:1::1:0:0"},
      {"0:0:1:0:0:0:1:0", "0:0:1::1:0"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      {"2a02:cf40:0000:0000:0000:0000:0000:0000", "2a02:cf40::"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
  });
}

TEST(Ipv6Test, Ipv4MappedKeepsTheDottedQuad) {
  ExpectNormalized({
      // RFC 5952 section 5.
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"0:0:0:0:0:FFFF:c000:0201", "::ffff:192.0.2.1"},
      {"::ffff:0.0.0.0", "::ffff:0.0.0.0"},
      // Not mapped: plain hex.
      {"::1.2.3.4", "::102:304"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
      {"::fffe:1.2.3.4", "::fffe:102:304"},
  });
}

TEST(Ipv6Test, LongestTextFits) {
  EXPECT_EQ(Normalize("::ffff:255.255.255.255").size(), 22u);
  // Eight four-digit groups: 39 chars, within kMaxIpTextLength.
  EXPECT_LE(Normalize("abcd:abcd:abcd:abcd:abcd:abcd:abcd:abcd").size(), kMaxIpTextLength);
}

// Random addresses: our formatter agrees with the RFC 5952 rules as glibc's inet_ntop applies
// them (outside the IPv4 forms, where glibc writes more mixed notation than RFC 5952 asks),
// and every output parses back to the same address.
TEST(Ipv6Test, RandomAddressesRoundTrip) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    IpAddress a;
    for (int g = 0; g < 8; ++g) {
      // Many zero groups, so runs and ties are common.
      uint16_t v = (rng() % 3 == 0) ? static_cast<uint16_t>(rng()) : 0;
      if (rng() % 7 == 0) v = static_cast<uint16_t>(rng() & 0xf);
      a.bytes[2 * g] = static_cast<uint8_t>(v >> 8);
      a.bytes[2 * g + 1] = static_cast<uint8_t>(v);
    }
    std::string text = Format(a);
    IpAddress back;
    ASSERT_TRUE(ParseIpAddress(text, &back)) << text;
    EXPECT_EQ(back, a) << text;
    bool zero_prefix = true;
    for (int b = 0; b < 10; ++b) zero_prefix = zero_prefix && a.bytes[b] == 0;
    if (zero_prefix) continue;  // ::ffff:a.b.c.d and ::a.b.c.d forms differ by design
    char ref[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET6, a.bytes.data(), ref, sizeof(ref)), nullptr);
    EXPECT_EQ(text, ref);
  }
}

// The contract's IPv4 rule, written plainly: four '.'-separated octets of 1-3 digits, <= 255.
bool ReferenceIpv4(std::string_view text, uint8_t* out) {
  int octets = 0;
  size_t pos = 0;
  while (true) {
    size_t dot = text.find('.', pos);
    std::string_view part = text.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
    if (part.empty() || part.size() > 3 || octets == 4) return false;
    unsigned v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 255) return false;
    out[octets++] = static_cast<uint8_t>(v);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  return octets == 4;
}

// Four octets of 0-4 digits (mostly 1-3), then sometimes one character changed.
std::string RandomDottedText(std::mt19937& rng) {
  const char alphabet[] = "0123456789012345678901234567890123456789....:a -";
  std::string text;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) text += '.';
    size_t digits = rng() % 8 == 0 ? (rng() % 2) * 4 : 1 + rng() % 3;
    for (size_t j = 0; j < digits; ++j) text += static_cast<char>('0' + rng() % (j ? 10 : 3));
  }
  if (rng() % 3 == 0 && !text.empty()) {
    text[rng() % text.size()] = alphabet[rng() % (sizeof(alphabet) - 1)];
  }
  return text;
}

// Random dotted text, parsed on its own and inside a longer buffer (the line parser's wide
// reads), agrees with the reference.
TEST(Ipv4Test, AgreesWithReferenceOnRandomText) {
  std::mt19937 rng(5);
  int valid_count = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::string text = RandomDottedText(rng);
    uint8_t expected[4];
    bool valid = ReferenceIpv4(text, expected);
    valid_count += valid;
    std::string buffer = text + std::string(rng() % 20, static_cast<char>('0' + rng() % 10));
    for (bool wide : {false, true}) {
      IpAddress a;
      bool ok = wide ? ParseIpAddress(std::string_view(buffer).substr(0, text.size()),
                                      buffer.data() + buffer.size(), &a)
                     : ParseIpAddress(text, &a);
      if (!valid) {
        // Not IPv4; it may still be IPv6 text ("1::" has no dots).
        ASSERT_FALSE(ok && a.v4) << text;
        continue;
      }
      ASSERT_TRUE(ok && a.v4) << text;
      ASSERT_EQ(std::memcmp(a.bytes.data(), expected, 4), 0) << text;
    }
  }
  EXPECT_GT(valid_count, 50000);  // the random text does reach the valid cases
}

#if defined(__SSE2__)
// ParseIpv4Shuffle compiled where it may run: the test calls it only on an SSSE3 processor.
[[gnu::target("ssse3")]] bool ShuffleParse(const char* p, size_t n, uint8_t* out) {
  return ParseIpv4Shuffle(p, n, out);
}

// The SSSE3 dotted-quad parser the line parser uses, on random text of 7 to 15 bytes with 16
// readable (its contract), agrees with the reference and with ParseIpv4Wide.
TEST(Ipv4Test, ShuffleParserAgreesWithReferenceOnRandomText) {
  if (!CpuHasSsse3()) GTEST_SKIP() << "no SSSE3 on this processor";
  std::mt19937 rng(7);
  int valid_count = 0;
  for (int i = 0; i < 400000; ++i) {
    const std::string text = RandomDottedText(rng);
    if (text.size() < 7 || text.size() > 15) continue;
    uint8_t expected[4];
    const bool valid = ReferenceIpv4(text, expected);
    valid_count += valid;
    std::string buffer = text + std::string(16, static_cast<char>('0' + rng() % 10));
    uint8_t shuffled[4], wide[4];
    const bool ok = ShuffleParse(buffer.data(), text.size(), shuffled);
    ASSERT_EQ(ok, valid) << text;
    ASSERT_EQ(ParseIpv4Wide(buffer.data(), text.size(), wide), valid) << text;
    if (valid) {
      ASSERT_EQ(std::memcmp(shuffled, expected, 4), 0) << text;
      ASSERT_EQ(std::memcmp(wide, expected, 4), 0) << text;
    }
  }
  EXPECT_GT(valid_count, 100000);
  // Every octet value in every position, at every length.
  for (int v = 0; v < 256; ++v) {
    for (int position = 0; position < 4; ++position) {
      int octets[4] = {1, 22, 255, 0};
      octets[position] = v;
      const std::string text = std::to_string(octets[0]) + "." + std::to_string(octets[1]) + "." +
                               std::to_string(octets[2]) + "." + std::to_string(octets[3]);
      const std::string buffer = text + std::string(16, ' ');
      uint8_t out[4];
      ASSERT_TRUE(ShuffleParse(buffer.data(), text.size(), out)) << text;
      for (int k = 0; k < 4; ++k) ASSERT_EQ(out[k], octets[k]) << text;
    }
  }
}
#endif

TEST(Ipv4Test, RandomAddressesRoundTrip) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    IpAddress a;
    a.v4 = true;
    uint32_t v = rng();
    std::memcpy(a.bytes.data(), &v, 4);
    std::string text = Format(a);
    IpAddress back;
    ASSERT_TRUE(ParseIpAddress(text, &back)) << text;
    EXPECT_EQ(back, a);
    char ref[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, a.bytes.data(), ref, sizeof(ref));
    EXPECT_EQ(text, ref);
  }
}

TEST(Ipv4Test, FormatsEveryOctetInEveryPosition) {
  for (unsigned v = 0; v < 256; ++v) {
    for (int at = 0; at < 4; ++at) {
      IpAddress a;
      a.v4 = true;
      for (int i = 0; i < 4; ++i) a.bytes[i] = static_cast<uint8_t>(i == at ? v : 255 - v);
      char ref[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, a.bytes.data(), ref, sizeof(ref));
      EXPECT_EQ(Format(a), ref);
      // Nothing is written past the text (callers may rely on a terminator already there).
      char buf[kMaxIpTextLength + 1];
      std::memset(buf, 'x', sizeof(buf));
      const size_t n = FormatIpAddress(a, buf);
      EXPECT_EQ(std::string(buf + n, sizeof(buf) - n), std::string(sizeof(buf) - n, 'x'));
      IpAddress mapped;  // ::ffff:a.b.c.d
      mapped.bytes[10] = mapped.bytes[11] = 0xff;
      std::memcpy(mapped.bytes.data() + 12, a.bytes.data(), 4);
      EXPECT_EQ(Format(mapped), std::string("::ffff:") + ref);
    }
  }
}

}  // namespace
}  // namespace vpcflow
