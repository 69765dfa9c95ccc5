#pragma once
/// IPv4 / IPv6 addresses in binary, parsed from and formatted to canonical text. Pure.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vpcflow {

/// An address: IPv4 in bytes[0..3] (rest zero) with v4 = true, or 16 bytes of IPv6.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// Longest text FormatIpAddress writes (IPv6 with embedded IPv4), without a terminator.
inline constexpr size_t kMaxIpTextLength = 45;

/// Parses dotted-quad IPv4 (exactly four decimal octets 0-255, no leading '+', leading zeros
/// accepted up to 3 digits) or IPv6 text (any RFC 4291 spelling, embedded IPv4 included,
/// hex digits either case, no zone id). Returns false on anything else.
bool ParseIpAddress(std::string_view text, IpAddress* out);

/// The same, where the bytes from `text.data()` up to `readable_end` (at or after the end of
/// `text`) may be read though they are not part of the address: lets the IPv4 parser load 16
/// bytes at once. The line parser passes the end of the line.
bool ParseIpAddress(std::string_view text, const char* readable_end, IpAddress* out);

/// Writes canonical text: dotted quad for IPv4; RFC 5952 for IPv6 (lower case, no leading
/// zeros, longest run of two or more zero groups as "::" (first on ties), "::ffff:a.b.c.d" for
/// IPv4-mapped). Returns the number of chars written into `out` (which must hold
/// kMaxIpTextLength).
size_t FormatIpAddress(const IpAddress& address, char* out);

}  // namespace vpcflow
