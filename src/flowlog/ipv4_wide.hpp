#pragma once
/// Parsing a dotted-quad IPv4 address 16 bytes at a time (SSE2; with SSSE3 where the caller is
/// compiled for it): the digest's hot path, inline so that the line parser does not pay a call
/// for each address. Internal to the flowlog layer: ParseIpAddress (address.hpp) is the
/// interface. Pure, thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <tmmintrin.h>

namespace vpcflow {

namespace ipv4_internal {

// Whether the first n bytes (7 to 15) of `text` are four octets of 1-3 digits separated by
// dots, and then the dots' positions: three dots, no two adjacent, none first or last, and no
// four digits in a row. Masks of digits and dots and one branch for all checks replace a branch
// per character, which the varying octet lengths of real addresses make unpredictable.
[[gnu::always_inline]] inline bool DotsOfFourOctets(__m128i text, size_t n, uint32_t* d1,
                                                    uint32_t* d2, uint32_t* d3) {
  const __m128i values = _mm_sub_epi8(text, _mm_set1_epi8('0'));
  const uint32_t in_text = (1u << n) - 1;
  // A digit's value is at most 9 (unsigned): min(value, 9) == value.
  const uint32_t digits = static_cast<uint32_t>(_mm_movemask_epi8(
                              _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values))) &
                          in_text;
  const uint32_t dots =
      static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(text, _mm_set1_epi8('.')))) & in_text;
  const uint32_t dots23 = dots & (dots - 1);
  const uint32_t dot3 = dots23 & (dots23 - 1);
  const uint32_t four_digits = digits & (digits >> 1) & (digits >> 2) & (digits >> 3);
  if ((digits | dots) != in_text || dot3 == 0 || (dot3 & (dot3 - 1)) != 0 ||
      (dots & ((dots >> 1) | 1 | (1u << (n - 1)))) != 0 || four_digits != 0) {
    return false;
  }
  *d1 = static_cast<uint32_t>(__builtin_ctz(dots));
  *d2 = static_cast<uint32_t>(__builtin_ctz(dots23));
  *d3 = static_cast<uint32_t>(__builtin_ctz(dot3));
  return true;
}

// The shuffle of ParseIpv4Shuffle for each shape of address, by the octets' lengths l0..l3
// (each 1-3) as the index 27 (l0 - 1) + 9 (l1 - 1) + 3 (l2 - 1) + (l3 - 1): byte 4i + k of the
// result is octet i's digit k of three, right-aligned (a missing leading digit is 0: index
// 0x80).
struct ShufflePatterns {
  alignas(16) uint8_t mask[81][16];
};
consteval ShufflePatterns MakeShufflePatterns() {
  ShufflePatterns p{};
  for (int index = 0; index < 81; ++index) {
    const int length[4] = {index / 27 + 1, index / 9 % 3 + 1, index / 3 % 3 + 1, index % 3 + 1};
    int start = 0;
    for (int i = 0; i < 4; ++i) {
      for (int k = 0; k < 4; ++k) p.mask[index][4 * i + k] = 0x80;
      for (int k = 0; k < length[i]; ++k) {
        p.mask[index][4 * i + 3 - length[i] + k] = static_cast<uint8_t>(start + k);
      }
      start += length[i] + 1;
    }
  }
  return p;
}
inline constexpr ShufflePatterns kShufflePatterns = MakeShufflePatterns();

}  // namespace ipv4_internal

/// Parses the n bytes of text at p (n from 7 to 15: the caller checks) as exactly four decimal
/// octets 0-255 of 1-3 digits separated by '.', into out[0..3]; 16 bytes from p must be
/// readable. Returns false for anything else (out[0..3] then unspecified).
[[gnu::always_inline]] inline bool ParseIpv4Wide(const char* p, size_t n, uint8_t* out) {
  const __m128i text = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  uint32_t d1, d2, d3;
  if (!ipv4_internal::DotsOfFourOctets(text, n, &d1, &d2, &d3)) return false;
  // Each octet's digits as the bytes of a word, right-aligned in three with '0' values ahead
  // (b0 b1 b2, b0 lowest), from 4-byte loads of the text: the first octet's at p, the others'
  // ending at their last digit (never before p: the first octet and its dot come first).
  const uint32_t length[4] = {d1, d2 - d1 - 1, d3 - d2 - 1, static_cast<uint32_t>(n) - d3 - 1};
  const uint32_t last[4] = {d1 - 1, d2 - 1, d3 - 1, static_cast<uint32_t>(n) - 1};
  uint32_t bad = 0;
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    uint32_t x;
    uint32_t b;
    if (i == 0) {
      std::memcpy(&x, p, 4);
      const uint32_t keep = (1u << (8 * length[0])) - 1;
      b = ((x & keep) - (0x303030u & keep)) << (8 * (3 - length[0]));
    } else {
      std::memcpy(&x, p + last[i] - 2, 4);
      const uint32_t keep = (0xFFFFFFu << (8 * (3 - length[i]))) & 0xFFFFFFu;
      b = (x & keep) - (0x303030u & keep);
    }
    // b0*10 + b1 in the lowest byte (each byte's product stays below 256), then * 10 + b2.
    const uint32_t octet = (((b * 10) + (b >> 8)) & 0xFF) * 10 + (b >> 16);
    bad |= static_cast<uint32_t>(octet > 255);
    out[i] = static_cast<uint8_t>(octet);
  }
  return bad == 0;
}

/// ParseIpv4Wide's contract and result, for a processor with SSSE3 (the caller checks): the
/// octets' digits moved into place by one shuffle chosen by the octets' lengths and converted
/// by two multiply-adds, instead of a load, mask and multiply per octet (in a loop over random
/// addresses 6.6 ns against 9.8 ns). Inline into a function compiled for SSSE3 (DESIGN.md,
/// "Performance").
[[gnu::target("ssse3")]] inline bool ParseIpv4Shuffle(const char* p, size_t n, uint8_t* out) {
  const __m128i text = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  uint32_t d1, d2, d3;
  if (!ipv4_internal::DotsOfFourOctets(text, n, &d1, &d2, &d3)) return false;
  const __m128i values = _mm_sub_epi8(text, _mm_set1_epi8('0'));
  const uint32_t shape =
      (d1 - 1) * 27 + (d2 - d1 - 2) * 9 + (d3 - d2 - 2) * 3 + (static_cast<uint32_t>(n) - d3 - 2);
  const __m128i placed = _mm_shuffle_epi8(
      values, _mm_load_si128(
                  reinterpret_cast<const __m128i*>(ipv4_internal::kShufflePatterns.mask[shape])));
  // Per octet: 100 h + 10 t and o as two 16-bit sums, then their sum as 32 bits.
  const __m128i pairs = _mm_maddubs_epi16(
      placed, _mm_setr_epi8(100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0, 100, 10, 1, 0));
  const __m128i octets = _mm_madd_epi16(pairs, _mm_set1_epi16(1));
  if (_mm_movemask_epi8(_mm_cmpgt_epi32(octets, _mm_set1_epi32(255))) != 0) return false;
  const __m128i low_bytes = _mm_shuffle_epi8(
      octets, _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  const auto word = static_cast<uint32_t>(_mm_cvtsi128_si32(low_bytes));
  std::memcpy(out, &word, 4);
  return true;
}

}  // namespace vpcflow

#endif
