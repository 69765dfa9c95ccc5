#include "flowlog/tokenizer.hpp"

#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "flowlog/cpu_features.hpp"

namespace vpcflow {

size_t SplitOnSpacesScalar(std::string_view line, size_t limit, uint32_t* bounds) {
  if (line.size() > std::numeric_limits<uint32_t>::max()) return limit + 1;
  const size_t len = line.size();
  size_t i = 0;
  size_t n = 0;
  while (true) {
    while (i != len && line[i] == ' ') ++i;
    if (i == len) return n;
    if (n == limit) return limit + 1;
    bounds[2 * n] = static_cast<uint32_t>(i);
    while (i != len && line[i] != ' ') ++i;
    bounds[2 * n + 1] = static_cast<uint32_t>(i);
    ++n;
  }
}

#if defined(__SSE2__)

namespace {

constexpr size_t kBlock = 64;

[[gnu::always_inline]] inline uint64_t SpaceMask16(const char* p, __m128i space) {
  __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, space)));
}

// Bit i is set when p[i] is a space, for 64 bytes.
[[gnu::always_inline]] inline uint64_t SpaceMask(const char* p) {
  const __m128i space = _mm_set1_epi8(' ');
  return SpaceMask16(p, space) | SpaceMask16(p + 16, space) << 16 |
         SpaceMask16(p + 32, space) << 32 | SpaceMask16(p + 48, space) << 48;
}

// The position of the lowest set bit; 63 for 0 (a harmless value: entries past the count are
// never read), which also keeps __builtin_ctzll away from 0.
[[gnu::always_inline]] inline uint32_t LowestBit(uint64_t bits) {
  return static_cast<uint32_t>(__builtin_ctzll(bits | (uint64_t{1} << 63)));
}

// Writes the positions of the `count` set bits of `bits` (plus `base`) to out[0..count), and
// garbage after them up to a multiple of 8: eight at a time without a branch per bit (the
// technique of simdjson's flatten_bits; most blocks of a flow-log line hold 8 to 16 edges).
[[gnu::always_inline]] inline void Flatten(uint64_t bits, int count, uint32_t base, uint32_t* out) {
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    out[i] = base + LowestBit(bits);
    bits &= bits - 1;
  }
  if (count <= 8) return;
#pragma GCC unroll 8
  for (int i = 8; i < 16; ++i) {
    out[i] = base + LowestBit(bits);
    bits &= bits - 1;
  }
  for (int i = 16; i < count; ++i) {
    out[i] = base + LowestBit(bits);
    bits &= bits - 1;
  }
}

// The non-space mask of the `rest` (< 64) last bytes of a line that starts at `base` and ends
// at `end`, the bytes past the end counted as spaces. A line of 64 bytes or more has its last 64
// bytes loaded (they overlap the previous block) and the mask shifted down: no copy and no load
// past the line. A shorter line is copied into a buffer padded with spaces.
[[gnu::always_inline]] inline uint64_t LastBlockNonSpace(const char* base, const char* end,
                                                         size_t rest) {
  if (end - base >= static_cast<ptrdiff_t>(kBlock)) {
    return ~SpaceMask(end - kBlock) >> (kBlock - rest);
  }
  char padded[kBlock];
  std::memset(padded, ' ', kBlock);
  std::memcpy(padded, end - rest, rest);
  return ~SpaceMask(padded);
}

// Writes, for each of the `count` set bits of `bits` (a separator at base + bit), the end of
// the token before it and the start of the one after it (the next position) to out[0..2 count),
// and garbage after them up to 16 entries: eight separators at a time, as Flatten.
[[gnu::always_inline]] inline void FlattenSeparators(uint64_t bits, size_t count, uint32_t base,
                                                     uint32_t* out) {
#pragma GCC unroll 8
  for (size_t i = 0; i < 8; ++i) {
    const uint32_t at = base + LowestBit(bits);
    out[2 * i] = at;
    out[2 * i + 1] = at + 1;
    bits &= bits - 1;
  }
  for (size_t i = 8; i < count; ++i) {
    const uint32_t at = base + LowestBit(bits);
    out[2 * i] = at;
    out[2 * i + 1] = at + 1;
    bits &= bits - 1;
  }
}

// Lines of 2 to 128 bytes whose tokens are separated by single spaces, none at either end (as
// AWS writes them): the bounds from the separators alone, one bit a separator instead of two
// edges. Returns false, having written nothing, for any other line.
[[gnu::always_inline]] inline bool SplitSingleSpaced(const char* base, size_t len, size_t limit,
                                                     uint32_t* bounds, size_t* tokens) {
  if (len - 2 > 2 * kBlock - 2 || base[0] == ' ' || base[len - 1] == ' ') return false;
  const char* end = base + len;
  uint64_t space0;
  uint64_t space1 = 0;
  if (len < kBlock) {
    space0 = ~LastBlockNonSpace(base, end, len) & ((uint64_t{1} << len) - 1);
  } else {
    space0 = SpaceMask(base);
    if (len == 2 * kBlock) {
      space1 = SpaceMask(base + kBlock);
    } else if (len > kBlock) {
      space1 = ~LastBlockNonSpace(base, end, len - kBlock) & ((uint64_t{1} << (len - kBlock)) - 1);
    }
  }
  if (((space0 & (space0 >> 1)) | (space1 & (space1 >> 1)) | ((space0 >> 63) & space1)) != 0) {
    return false;  // a run of spaces
  }
  const auto count0 = static_cast<size_t>(__builtin_popcountll(space0));
  const auto count1 = static_cast<size_t>(__builtin_popcountll(space1));
  const size_t separators = count0 + count1;
  if (separators >= limit) {  // more tokens than allowed
    *tokens = limit + 1;
    return true;
  }
  // At most 2 * limit + 16 entries written: within the slack.
  bounds[0] = 0;
  FlattenSeparators(space0, count0, 0, bounds + 1);
  FlattenSeparators(space1, count1, kBlock, bounds + 1 + 2 * count0);
  bounds[2 * separators + 1] = static_cast<uint32_t>(len);
  *tokens = separators + 1;
  return true;
}

// 64 bytes at a time: with a mask of non-space bytes, the token edges (a start: non-space after
// space; an end: space after non-space) are the bits where the mask differs from itself shifted
// by one. Edges alternate start, end, start, ... so they are the bounds in order. Inlined into
// the two versions below, compiled for different instruction sets.
[[gnu::always_inline]] inline size_t SplitOnSpacesBody(std::string_view line, size_t limit,
                                                       uint32_t* bounds) {
  if (line.size() > std::numeric_limits<uint32_t>::max()) return limit + 1;
  const char* base = line.data();
  const size_t len = line.size();
  size_t tokens;
  if (SplitSingleSpaced(base, len, limit, bounds, &tokens)) return tokens;
  size_t edges_seen = 0;
  uint64_t carry = 0;  // 1 when the previous block ended inside a token
  for (size_t block = 0; block < len; block += kBlock) {
    const size_t rest = len - block;
    const uint64_t nonspace =
        rest < kBlock ? LastBlockNonSpace(base, base + len, rest) : ~SpaceMask(base + block);
    const uint64_t edges = nonspace ^ ((nonspace << 1) | carry);
    carry = nonspace >> 63;
    const int count = __builtin_popcountll(edges);
    // At most 2 * limit edges so far, and at most 64 written here: within the slack.
    Flatten(edges, count, static_cast<uint32_t>(block), bounds + edges_seen);
    edges_seen += static_cast<size_t>(count);
    if ((edges_seen + 1) / 2 > limit) return limit + 1;  // more tokens started than allowed
  }
  if (edges_seen % 2 == 1) bounds[edges_seen++] = static_cast<uint32_t>(len);  // ends at the end
  return edges_seen / 2;
}

// The body compiled for x86-64-v3 (Haswell and later: POPCNT, BMI1/2, AVX2): the edge count is
// one popcnt instruction instead of a call to libgcc's __popcountdi2 (the baseline x86-64 has no
// POPCNT), the lowest bit one tzcnt, and the loads VEX-encoded.
[[gnu::target("popcnt,bmi,bmi2,avx2")]] size_t SplitOnSpacesV3(std::string_view line, size_t limit,
                                                               uint32_t* bounds) {
  return SplitOnSpacesBody(line, limit, bounds);
}

using SplitFn = size_t (*)(std::string_view, size_t, uint32_t*);

// Chosen once, at load time, from what this processor has.
SplitFn ChooseSplit() { return CpuHasX86V3() ? &SplitOnSpacesV3 : &SplitOnSpacesSse2; }

const SplitFn kSplit = ChooseSplit();

}  // namespace

size_t SplitOnSpacesSse2(std::string_view line, size_t limit, uint32_t* bounds) {
  return SplitOnSpacesBody(line, limit, bounds);
}

size_t SplitOnSpaces(std::string_view line, size_t limit, uint32_t* bounds) {
  return kSplit(line, limit, bounds);
}

#else

size_t SplitOnSpacesSse2(std::string_view line, size_t limit, uint32_t* bounds) {
  return SplitOnSpacesScalar(line, limit, bounds);
}

size_t SplitOnSpaces(std::string_view line, size_t limit, uint32_t* bounds) {
  return SplitOnSpacesScalar(line, limit, bounds);
}

#endif

}  // namespace vpcflow
