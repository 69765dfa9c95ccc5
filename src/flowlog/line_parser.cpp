#include "flowlog/line_parser.hpp"

#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <immintrin.h>
#include <tmmintrin.h>
#endif

#include "common/little_endian.hpp"
#include "flowlog/cpu_features.hpp"
#include "flowlog/ipv4_wide.hpp"
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
[[gnu::always_inline]] inline bool EightDigits(uint64_t v, uint64_t* out) {
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
[[gnu::always_inline]] inline bool FewDigits(const char* p, size_t n, uint64_t* out) {
  uint64_t v = Load8(p);
  const unsigned shift = static_cast<unsigned>(8 - n) * 8;
  if (shift != 0) v = (v << shift) | (kAsciiZeros >> (64 - shift));
  return EightDigits(v, out);
}

// Plain decimal digits (no sign), at most 20 of them, fitting uint64_t: any length, any bytes
// after the token (ParseUnsigned takes the common lengths before calling this).
[[gnu::noinline]] bool ParseUnsignedAnyLength(const Token& t, const char* line_end, uint64_t* out) {
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

// The same. Inlined for the lengths of ports, counts and times (1 to 16 digits, which cannot
// overflow) when the line goes on far enough for whole 8-byte loads.
[[gnu::always_inline]] inline bool ParseUnsigned(const Token& t, const char* line_end,
                                                 uint64_t* out) {
  const char* p = t.data;
  const size_t n = t.size;
  const ptrdiff_t readable = line_end - p;
  if (n - 1 < 8 && readable >= 8) return FewDigits(p, n, out);
  if (n - 9 < 8 && readable >= 16) {
    uint64_t high, low;
    if (!FewDigits(p, n - 8, &high) || !EightDigits(Load8(p + n - 8), &low)) return false;
    *out = high * 100'000'000 + low;
    return true;
  }
  return ParseUnsignedAnyLength(t, line_end, out);
}

#if defined(__SSE2__)
// For DigitsShuffle: the shuffle that right-aligns n digits (0-16) in 16 bytes, zeros ahead.
struct RightAlignPatterns {
  alignas(16) uint8_t mask[17][16];
};
consteval RightAlignPatterns MakeRightAlignPatterns() {
  RightAlignPatterns r{};
  for (int n = 0; n <= 16; ++n) {
    for (int k = 0; k < 16; ++k) {
      r.mask[n][k] = k < 16 - n ? 0x80 : static_cast<uint8_t>(k - (16 - n));
    }
  }
  return r;
}
inline constexpr RightAlignPatterns kRightAlign = MakeRightAlignPatterns();

// ParseUnsigned's result for 1 to 16 digits with 16 readable bytes at t.data, for a processor
// with SSSE3: the digits right-aligned by one shuffle and converted by multiply-adds, two
// digits, four, then eight a lane (a 10-digit time: ~3 ns against ~6 by SWAR).
[[gnu::target("ssse3")]] inline bool DigitsShuffle(const Token& t, uint64_t* out) {
  const __m128i text = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data));
  const __m128i values = _mm_sub_epi8(text, _mm_set1_epi8('0'));
  const auto digits = static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values)));
  const uint32_t in_token = (1u << t.size) - 1;
  if ((digits & in_token) != in_token) return false;
  const __m128i aligned = _mm_shuffle_epi8(
      values, _mm_load_si128(reinterpret_cast<const __m128i*>(kRightAlign.mask[t.size])));
  const __m128i pairs = _mm_maddubs_epi16(
      aligned, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
  const __m128i quads = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
  // The four quads (each below 10000) as 16-bit values, then two 8-digit halves.
  const __m128i packed = _mm_shuffle_epi8(
      quads, _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
  const __m128i eights = _mm_madd_epi16(packed, _mm_setr_epi16(10000, 1, 10000, 1, 0, 0, 0, 0));
  const auto high = static_cast<uint32_t>(_mm_cvtsi128_si32(eights));
  const auto low = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(eights, 4)));
  *out = uint64_t{high} * 100'000'000 + low;
  return true;
}
#endif

// ParseUnsigned, by DigitsShuffle when kSsse3 (the caller is compiled for SSSE3) and the token
// allows it.
template <bool kSsse3>
[[gnu::always_inline]] inline bool ParseNumber(const Token& t, const char* line_end,
                                               uint64_t* out) {
#if defined(__SSE2__)
  if constexpr (kSsse3) {
    if (t.size - 1 < 16 && line_end - t.data >= 16) return DigitsShuffle(t, out);
  }
#endif
  return ParseUnsigned(t, line_end, out);
}

// A count (packets, bytes): '-' or an absent column is 0 (DESIGN.md digest rule 3).
template <bool kSsse3>
[[gnu::always_inline]] inline bool ParseCount(int column, const Tokens& tokens,
                                              const char* line_end, uint64_t* out) {
  if (column < 0 || tokens[column].IsDash()) {
    *out = 0;
    return true;
  }
  return ParseNumber<kSsse3>(tokens[column], line_end, out);
}

template <bool kSsse3>
[[gnu::always_inline]] inline bool ParseTime(const Token& t, const char* line_end, int64_t* out) {
  uint64_t v;
  if (!ParseNumber<kSsse3>(t, line_end, &v)) return false;
  *out = TimeSeconds(v);  // below 2^64 / 1000 once divided: fits int64_t
  return true;
}

// An address token (ParseIpAddress's rules): a dotted quad with 16 readable bytes, as most are,
// parsed inline (by ParseIpv4Shuffle when kSsse3: the caller is compiled for SSSE3); anything
// else (IPv6, near the line's end, invalid) by ParseIpAddress, which tries the same IPv4 rules
// first, so the outcome is the same either way.
template <bool kSsse3>
[[gnu::always_inline]] inline bool ParseAddress(const Token& t, const char* line_end,
                                                IpAddress* out) {
#if defined(__SSE2__)
  if (t.size - 7 <= 8 && line_end - t.data >= 16) {
    uint8_t v4[4];
    const bool parsed =
        kSsse3 ? ParseIpv4Shuffle(t.data, t.size, v4) : ParseIpv4Wide(t.data, t.size, v4);
    if (parsed) {
      *out = IpAddress{{v4[0], v4[1], v4[2], v4[3]}, true};
      return true;
    }
  }
#endif
  return ParseIpAddress(t.view(), line_end, out);
}

// Words to compare short tokens with: their bytes, the first in the lowest byte.
consteval uint64_t Word(std::string_view text) {
  uint64_t w = 0;
  for (size_t i = text.size(); i-- > 0;) w = w << 8 | static_cast<unsigned char>(text[i]);
  return w;
}

// The bytes of a token of 2, 6 or 8 bytes as a Word: status and action are compared on every
// line, by one compare of words instead of a call of memcmp. Loads of the token's own bytes only,
// each as wide as its part (a memcpy of 6 bytes into a word is two stores and a wider load,
// which stalls store forwarding).
template <size_t kSize>
[[gnu::always_inline]] inline uint64_t TokenWord(const char* p) {
  static_assert(kSize == 2 || kSize == 6 || kSize == 8);
  if constexpr (kSize == 8) return LoadLittleEndian64(p);
  uint16_t last2;
  std::memcpy(&last2, p + kSize - 2, 2);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  last2 = __builtin_bswap16(last2);
#endif
  if constexpr (kSize == 2) return last2;
  return LoadLittleEndian32(p) | uint64_t{last2} << 32;
}

[[gnu::always_inline]] inline LineOutcome StatusOutcome(const char* p, size_t n) {
  if (n == 2 && TokenWord<2>(p) == Word("OK")) return LineOutcome::kUsed;
  if (n == 1 && p[0] == '-') return LineOutcome::kUsed;
  if (n == 6 && TokenWord<6>(p) == Word("NODATA")) return LineOutcome::kStatusNoData;
  if (n == 8 && TokenWord<8>(p) == Word("SKIPDATA")) return LineOutcome::kStatusSkipData;
  return LineOutcome::kStatusOther;
}

[[gnu::always_inline]] inline bool ActionOf(const char* p, size_t n, Action* out) {
  if (n == 6) {
    const uint64_t w = TokenWord<6>(p);
    if (w == Word("ACCEPT")) {
      *out = Action::kAccept;
      return true;
    }
    if (w == Word("REJECT")) {
      *out = Action::kReject;
      return true;
    }
    return false;
  }
  if (n == 1 && p[0] == '-') {
    *out = Action::kAbsent;
    return true;
  }
  return false;
}

// A used line's numbers, checked.
struct LineNumbers {
  uint64_t sport, dport, proto, packets, bytes;
  int64_t start, end;
};

// Writes a used line's record (each field by its own store).
[[gnu::always_inline]] inline void StoreRecord(std::string_view account, std::string_view interface,
                                               const IpAddress& src, const IpAddress& dst,
                                               const LineNumbers& n, Action action,
                                               FlowRecord* out) {
  out->account_id = account;
  out->interface_id = interface;
  out->srcaddr = src;
  out->dstaddr = dst;
  out->srcport = static_cast<uint16_t>(n.sport);
  out->dstport = static_cast<uint16_t>(n.dport);
  out->protocol = static_cast<uint8_t>(n.proto);
  out->action = action;
  out->packets = n.packets;
  out->bytes = n.bytes;
  out->start = n.start;
  out->end = n.end;
}

// Where a format's fields are: looked up for any format.
class AnyColumns {
 public:
  static constexpr size_t kMaxColumns = kMaxLineColumns;
  explicit AnyColumns(const FlowFormat& format) : format_(format) {}
  int Of(Field field) const { return format_.ColumnOf(field); }
  size_t count() const { return format_.column_count(); }

 private:
  const FlowFormat& format_;
};

// The default format's: constants (a field's column is its value), so that the lookups and the
// branches for absent columns fold away, and a smaller bounds array.
struct DefaultColumns {
  static constexpr size_t kMaxColumns = FlowFormat::kDefaultColumnCount;
  static constexpr int Of(Field field) { return static_cast<int>(field); }
  static constexpr size_t count() { return kMaxColumns; }
};

// ParseFlowLine's rules for the columns `columns`; one body for every format. kSsse3: the caller
// is compiled for SSSE3 (addresses by ParseIpv4Shuffle).
template <typename Columns, bool kSsse3 = false>
[[gnu::always_inline]] inline LineOutcome ParseWith(const Columns& columns, std::string_view line,
                                                    FlowRecord* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t count = columns.count();
  constexpr size_t kMax = Columns::kMaxColumns;
  uint32_t bounds[2 * kMax + kTokenBoundsSlack];  // uninitialised on purpose
  size_t n = SplitOnSpaces(line, count < kMax ? count : kMax, bounds);
  if (n == 0) return LineOutcome::kBlank;
  if (n != count || n > kMax) return LineOutcome::kBadTokenCount;
  const Tokens tokens{line.data(), bounds};

  // Column indices into locals first: the stores into *out below may alias anything (bytes).
  const int c_status = columns.Of(Field::kLogStatus);
  const int c_src = columns.Of(Field::kSrcAddr);
  const int c_dst = columns.Of(Field::kDstAddr);
  const int c_sport = columns.Of(Field::kSrcPort);
  const int c_dport = columns.Of(Field::kDstPort);
  const int c_proto = columns.Of(Field::kProtocol);
  const int c_start = columns.Of(Field::kStart);
  const int c_end = columns.Of(Field::kEnd);
  const int c_packets = columns.Of(Field::kPackets);
  const int c_bytes = columns.Of(Field::kBytes);
  const int c_action = columns.Of(Field::kAction);
  const int c_account = columns.Of(Field::kAccountId);
  const int c_interface = columns.Of(Field::kInterfaceId);

  if (c_status >= 0) {
    const Token status = tokens[c_status];
    const LineOutcome outcome = StatusOutcome(status.data, status.size);
    if (outcome != LineOutcome::kUsed) return outcome;
  }

  // Written out, not a loop over the columns: unrolled, with constant columns.
  const auto missing = [&tokens](int c) { return c < 0 || tokens[c].IsDash(); };
  if (missing(c_src) || missing(c_dst) || missing(c_sport) || missing(c_dport) ||
      missing(c_proto) || missing(c_start) || missing(c_end)) {
    return LineOutcome::kIncomplete;
  }

  const char* e = line.data() + line.size();
  IpAddress src, dst;
  if (!ParseAddress<kSsse3>(tokens[c_src], e, &src) ||
      !ParseAddress<kSsse3>(tokens[c_dst], e, &dst)) {
    return LineOutcome::kBadAddress;
  }

  uint64_t sport, dport, proto, packets, bytes;
  int64_t start, end;
  if (!ParseNumber<kSsse3>(tokens[c_sport], e, &sport) || sport > 65535 ||
      !ParseNumber<kSsse3>(tokens[c_dport], e, &dport) || dport > 65535 ||
      !ParseNumber<kSsse3>(tokens[c_proto], e, &proto) || proto > 255) {
    return LineOutcome::kBadNumber;
  }
  if (!ParseTime<kSsse3>(tokens[c_start], e, &start) ||
      !ParseTime<kSsse3>(tokens[c_end], e, &end) || end < start) {
    return LineOutcome::kBadNumber;
  }
  if (!ParseCount<kSsse3>(c_packets, tokens, e, &packets) ||
      !ParseCount<kSsse3>(c_bytes, tokens, e, &bytes)) {
    return LineOutcome::kBadNumber;
  }

  Action action = Action::kAbsent;
  if (c_action >= 0) {
    const Token t = tokens[c_action];
    if (!ActionOf(t.data, t.size, &action)) return LineOutcome::kBadValue;
  }

  StoreRecord(c_account < 0 ? std::string_view("-") : tokens[c_account].view(),
              c_interface < 0 ? std::string_view("-") : tokens[c_interface].view(), src, dst,
              {sport, dport, proto, packets, bytes, start, end}, action, out);
  return LineOutcome::kUsed;
}

// The default format's path without SSSE3.
LineOutcome ParseDefaultSse2(std::string_view line, FlowRecord* out) {
  return ParseWith(DefaultColumns{}, line, out);
}

// The SSSE3 builds of both paths, flattened so that the SSSE3 code (ParseIpv4Shuffle,
// DigitsShuffle) is inlined into them.
[[gnu::target("ssse3"), gnu::flatten]] LineOutcome ParseDefaultSsse3(std::string_view line,
                                                                     FlowRecord* out) {
  return ParseWith<DefaultColumns, true>(DefaultColumns{}, line, out);
}
[[gnu::target("ssse3"), gnu::flatten]] LineOutcome ParseAnySsse3(const FlowFormat& format,
                                                                 std::string_view line,
                                                                 FlowRecord* out) {
  return ParseWith<AnyColumns, true>(AnyColumns(format), line, out);
}

#if defined(__x86_64__)
// The path for processors with AVX-512 VBMI2 (Ice Lake, Zen 4 and later), for the default
// format and any other: a line of up to 255 bytes is read by four masked loads (nothing past its
// end), its single-space separators found by one compare a 64-byte block and their positions
// gathered by vpcompressb, so each column's start and end are bytes of one register (formats of
// up to 64 columns); its seven numbers are converted four a register, each right-aligned into a
// 16-byte lane by vpermi2b from the positions. The addresses, status and action take the SSSE3
// path's code. Any line it does not take whole as kUsed (longer, other spacing or token count,
// '-', a non-digit, a number of more than 16 digits or out of range, an address it does not
// parse, another action, a format without one of the numbers' columns) is parsed again by the
// SSSE3 path, so the outcome and the record are always that path's.
// GCC 12's AVX-512 headers start unmasked results from _mm512_undefined_*(), which its
// -Wmaybe-uninitialized reports once inlined (a false positive).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// (A macro: the target attribute takes a string literal only.)
#define VPCFLOW_AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt"

// A line of up to kBlocks x 64 bytes in registers (2: up to 128 bytes; 4: up to 255).
template <size_t kBlocks>
struct LineBlocks {
  __m512i text[kBlocks];
};

// The four numbers of the columns each 16-byte lane of `columns` names in all its bytes (`ends`
// and `starts`: each column's end and start positions), written to out[0], out[2], out[4],
// out[6]; false when one is longer than 16 bytes or holds a non-digit.
template <size_t kBlocks>
[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::always_inline]] inline bool FourNumbers(
    const LineBlocks<kBlocks>& line, __m512i ends, __m512i starts, __m512i columns, uint64_t* out) {
  const __m512i end = _mm512_permutexvar_epi8(columns, ends);
  const __m512i length = _mm512_sub_epi8(end, _mm512_permutexvar_epi8(columns, starts));
  if (_mm512_cmpgt_epu8_mask(length, _mm512_set1_epi8(16)) != 0) return false;
  // Byte k of a lane (0-15) takes the text at end - 16 + k when k >= 16 - length, else 0.
  const __m512i k = _mm512_set4_epi32(0x0f0e0d0c, 0x0b0a0908, 0x07060504, 0x03020100);
  const __mmask64 in_token =
      _mm512_cmpge_epu8_mask(k, _mm512_sub_epi8(_mm512_set1_epi8(16), length));
  const __m512i index = _mm512_add_epi8(end, _mm512_sub_epi8(k, _mm512_set1_epi8(16)));
  // Positions 0-127 from the first two blocks, 128-255 (bit 7) from the last two.
  __m512i text = _mm512_permutex2var_epi8(line.text[0], index, line.text[1]);
  if constexpr (kBlocks == 4) {
    text = _mm512_mask_blend_epi8(_mm512_movepi8_mask(index), text,
                                  _mm512_permutex2var_epi8(line.text[2], index, line.text[3]));
  }
  const __m512i digits = _mm512_maskz_sub_epi8(in_token, text, _mm512_set1_epi8('0'));
  if (_mm512_mask_cmpgt_epu8_mask(in_token, digits, _mm512_set1_epi8(9)) != 0) return false;
  const __m512i pairs = _mm512_maddubs_epi16(digits, _mm512_set1_epi16(0x010A));  // 10, 1
  const __m512i quads = _mm512_madd_epi16(pairs, _mm512_set1_epi32(0x00010064));  // 100, 1
  // Per lane: the four quads as 16-bit values, then two 8-digit halves, then the number.
  const __m512i halves =
      _mm512_madd_epi16(_mm512_packus_epi32(quads, quads), _mm512_set1_epi32(0x00012710));
  const __m512i numbers = _mm512_add_epi64(_mm512_mul_epu32(halves, _mm512_set1_epi64(100000000)),
                                           _mm512_srli_epi64(halves, 32));
  _mm512_storeu_si512(out, numbers);
  return true;
}

// Four columns as lanes for FourNumbers (each lane's 16 bytes all hold its column).
[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::always_inline]] inline __m512i ColumnLanes(int a, int b,
                                                                                      int c,
                                                                                      int d) {
  constexpr uint64_t kBytes = 0x0101010101010101;
  const auto lane = [](int column) {
    const uint64_t bytes = static_cast<uint64_t>(column) * kBytes;
    return std::bit_cast<long long>(bytes);
  };
  return _mm512_set_epi64(lane(d), lane(d), lane(c), lane(c), lane(b), lane(b), lane(a), lane(a));
}

// ParseAvx512's body for lines of at most kBlocks x 64 bytes (and 255), `trimmed` being `line`
// without its '\r'.
template <size_t kBlocks, typename Columns, typename FallBack>
[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::always_inline]] inline LineOutcome ParseAvx512Blocks(
    const Columns& columns, std::string_view line, std::string_view trimmed, FlowRecord* out,
    FallBack fall_back) {
  const size_t len = trimmed.size();
  const size_t count = columns.count();
  const char* p = trimmed.data();
  LineBlocks<kBlocks> blocks;
  __mmask64 seps[4] = {0, 0, 0, 0};
  const __m512i space = _mm512_set1_epi8(' ');
  size_t separators = 0;
  for (size_t b = 0; b < kBlocks; ++b) {
    const size_t from = 64 * b;
    const __mmask64 in_line = len >= from + 64 ? ~__mmask64{0}
                              : len > from     ? (__mmask64{1} << (len - from)) - 1
                                               : 0;
    blocks.text[b] = _mm512_maskz_loadu_epi8(in_line, p + from);
    seps[b] = _mm512_mask_cmpeq_epi8_mask(in_line, blocks.text[b], space);
    separators += static_cast<size_t>(_mm_popcnt_u64(seps[b]));
  }
  // Single spaces between `count` tokens, none at either end.
  const __mmask64 runs = (seps[0] & (seps[0] >> 1)) | ((seps[0] >> 63) & seps[1]) |
                         (seps[1] & (seps[1] >> 1)) | ((seps[1] >> 63) & seps[2]) |
                         (seps[2] & (seps[2] >> 1)) | ((seps[2] >> 63) & seps[3]) |
                         (seps[3] & (seps[3] >> 1));
  if (separators != count - 1 || (seps[0] & 1) != 0 || p[len - 1] == ' ' || runs != 0) {
    return fall_back(line, out);
  }
  // The separators' positions (bytes 0 to count - 2), then each column's end and start.
  const __m512i iota = _mm512_set_epi8(
      63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
      40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
      17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  __m512i positions = _mm512_maskz_compress_epi8(seps[0], iota);
  unsigned found = static_cast<unsigned>(_mm_popcnt_u64(seps[0]));
  for (size_t b = 1; b < kBlocks; ++b) {
    if (seps[b] == 0) continue;
    const __m512i block = _mm512_maskz_compress_epi8(
        seps[b], _mm512_add_epi8(iota, _mm512_set1_epi8(static_cast<char>(64 * b))));
    // Appended after the `found` positions so far (at most 63 in all).
    positions = _mm512_mask_permutexvar_epi8(
        positions, ~((__mmask64{1} << found) - 1),
        _mm512_sub_epi8(iota, _mm512_set1_epi8(static_cast<char>(found))), block);
    found += static_cast<unsigned>(_mm_popcnt_u64(seps[b]));
  }
  const __m512i ends =
      _mm512_mask_set1_epi8(positions, __mmask64{1} << (count - 1), static_cast<char>(len));
  const __m512i starts = _mm512_maskz_add_epi8(
      ~__mmask64{1}, _mm512_permutexvar_epi8(_mm512_sub_epi8(iota, _mm512_set1_epi8(1)), positions),
      _mm512_set1_epi8(1));
  alignas(64) uint8_t end_at[64];
  alignas(64) uint8_t start_at[64];
  _mm512_store_si512(end_at, ends);
  _mm512_store_si512(start_at, starts);
  const auto token = [&](int column) {
    return Token{p + start_at[column], static_cast<size_t>(end_at[column] - start_at[column])};
  };

  if (const int c_status = columns.Of(Field::kLogStatus); c_status >= 0) {
    const Token status = token(c_status);
    if (const LineOutcome outcome = StatusOutcome(status.data, status.size);
        outcome != LineOutcome::kUsed) {
      return outcome;  // the SSSE3 path's first check after the token count, the same
    }
  }
  const int c_sport = columns.Of(Field::kSrcPort);
  const int c_dport = columns.Of(Field::kDstPort);
  const int c_proto = columns.Of(Field::kProtocol);
  const int c_packets = columns.Of(Field::kPackets);
  const int c_bytes = columns.Of(Field::kBytes);
  const int c_start = columns.Of(Field::kStart);
  const int c_end = columns.Of(Field::kEnd);
  const int c_src = columns.Of(Field::kSrcAddr);
  const int c_dst = columns.Of(Field::kDstAddr);
  if ((c_sport | c_dport | c_proto | c_packets | c_bytes | c_start | c_end | c_src | c_dst) < 0) {
    return fall_back(line, out);
  }
  alignas(64) uint64_t low[8];
  alignas(64) uint64_t high[8];
  if (!FourNumbers(blocks, ends, starts, ColumnLanes(c_sport, c_dport, c_proto, c_packets), low) ||
      // (the fourth lane repeats `end`: three numbers are left for the second register)
      !FourNumbers(blocks, ends, starts, ColumnLanes(c_bytes, c_start, c_end, c_end), high)) {
    return fall_back(line, out);
  }
  const LineNumbers n{
      low[0], low[2], low[4], low[6], high[0], TimeSeconds(high[2]), TimeSeconds(high[4])};
  const char* e = p + len;
  IpAddress src, dst;
  Action action = Action::kAbsent;
  const int c_action = columns.Of(Field::kAction);
  if (n.sport > 65535 || n.dport > 65535 || n.proto > 255 || n.end < n.start ||
      !ParseAddress<true>(token(c_src), e, &src) || !ParseAddress<true>(token(c_dst), e, &dst)) {
    return fall_back(line, out);
  }
  if (c_action >= 0) {
    const Token t = token(c_action);
    if (!ActionOf(t.data, t.size, &action)) return fall_back(line, out);
  }
  const int c_account = columns.Of(Field::kAccountId);
  const int c_interface = columns.Of(Field::kInterfaceId);
  StoreRecord(c_account < 0 ? std::string_view("-") : token(c_account).view(),
              c_interface < 0 ? std::string_view("-") : token(c_interface).view(), src, dst, n,
              action, out);
  return LineOutcome::kUsed;
}

// ParseFlowLine's rules for `columns` (DefaultColumns or AnyColumns) on AVX-512 VBMI2;
// `fall_back(line, out)` parses the lines it does not take.
template <typename Columns, typename FallBack>
[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::always_inline]] inline LineOutcome ParseAvx512(
    const Columns& columns, std::string_view line, FlowRecord* out, FallBack fall_back) {
  constexpr size_t kMaxLength = 255;  // positions are bytes
  constexpr size_t kMaxColumns = 64;  // separators are bytes of one register
  std::string_view trimmed = line;
  if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
  const size_t len = trimmed.size();
  const size_t count = columns.count();
  if (count < 2 || count > kMaxColumns || len < 2 * count - 1 || len > kMaxLength) {
    return fall_back(line, out);
  }
  if (len <= 128) return ParseAvx512Blocks<2>(columns, line, trimmed, out, fall_back);
  return ParseAvx512Blocks<4>(columns, line, trimmed, out, fall_back);
}

// The lines ParseAvx512 does not take: not inlined into it (it is flattened).
[[gnu::noinline]] LineOutcome ParseDefaultFallBack(std::string_view line, FlowRecord* out) {
  return ParseDefaultSsse3(line, out);
}
[[gnu::noinline]] LineOutcome ParseAnyFallBack(const FlowFormat& format, std::string_view line,
                                               FlowRecord* out) {
  return ParseAnySsse3(format, line, out);
}

[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::flatten]] LineOutcome ParseDefaultAvx512(
    std::string_view line, FlowRecord* out) {
  return ParseAvx512(DefaultColumns{}, line, out, &ParseDefaultFallBack);
}
[[gnu::target(VPCFLOW_AVX512_TARGET), gnu::flatten]] LineOutcome ParseAnyAvx512(
    const FlowFormat& format, std::string_view line, FlowRecord* out) {
  return ParseAvx512(AnyColumns(format), line, out, [&format](std::string_view l, FlowRecord* o) {
    return ParseAnyFallBack(format, l, o);
  });
}
#undef VPCFLOW_AVX512_TARGET
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// The paths for the processor at hand, chosen once, at load time.
struct Parsers {
  LineOutcome (*default_format)(std::string_view, FlowRecord*);
  LineOutcome (*any_format)(const FlowFormat&, std::string_view, FlowRecord*);
};
Parsers ChooseParsers() {
  if (!CpuHasSsse3()) return {&ParseDefaultSse2, &ParseFlowLineAnyFormat};
#if defined(__x86_64__)
  if (CpuHasAvx512Vbmi2()) return {&ParseDefaultAvx512, &ParseAnyAvx512};
#endif
  return {&ParseDefaultSsse3, &ParseAnySsse3};
}
const Parsers kParsers = ChooseParsers();

}  // namespace

bool DefaultParserBuildRuns(DefaultParserBuild build) {
  switch (build) {
    case DefaultParserBuild::kSse2:
      return true;
    case DefaultParserBuild::kSsse3:
      return CpuHasSsse3();
    case DefaultParserBuild::kAvx512:
      return CpuHasAvx512Vbmi2();
  }
  return false;
}

LineOutcome ParseFlowLineDefaultBuild(DefaultParserBuild build, std::string_view line,
                                      FlowRecord* out) {
  switch (build) {
    case DefaultParserBuild::kSse2:
      break;
    case DefaultParserBuild::kSsse3:
      return ParseDefaultSsse3(line, out);
    case DefaultParserBuild::kAvx512:
#if defined(__x86_64__)
      return ParseDefaultAvx512(line, out);
#else
      break;
#endif
  }
  return ParseDefaultSse2(line, out);
}

LineOutcome LogStatusOutcome(std::string_view status) {
  return StatusOutcome(status.data(), status.size());
}

bool ParseAction(std::string_view value, Action* out) {
  return ActionOf(value.data(), value.size(), out);
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
  if (format.is_default()) return kParsers.default_format(line, out);
  return kParsers.any_format(format, line, out);
}

LineOutcome ParseFlowLineAnyFormat(const FlowFormat& format, std::string_view line,
                                   FlowRecord* out) {
  return ParseWith(AnyColumns(format), line, out);
}

}  // namespace vpcflow
