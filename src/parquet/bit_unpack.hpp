#pragma once
/// Little-endian bit fields, as Parquet packs them (least significant bit first). Internal to
/// the Parquet layer. Pure, header-only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "common/little_endian.hpp"

namespace vpcflow::parquet {

/// The `width` (0-64) bits starting at bit `bit` of `data`, which holds `size` bytes; bits past
/// the end read as 0 (callers check that a value's bytes are present before asking).
inline uint64_t ReadBits(const uint8_t* data, size_t size, uint64_t bit, int width) {
  if (width == 0) return 0;
  const size_t byte = static_cast<size_t>(bit >> 3);
  const unsigned shift = static_cast<unsigned>(bit & 7);
  uint64_t lo = 0;
  if (byte + 8 <= size) {
    lo = LoadLittleEndian64(data + byte);
  } else {
    for (size_t i = byte; i < size; ++i) lo |= static_cast<uint64_t>(data[i]) << (8 * (i - byte));
  }
  uint64_t v = lo >> shift;
  // A field that starts mid-byte and is wider than 56 bits continues in a ninth byte.
  if (shift != 0 && width + static_cast<int>(shift) > 64 && byte + 8 < size) {
    v |= static_cast<uint64_t>(data[byte + 8]) << (64 - shift);
  }
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

/// Unpacks `groups` groups of 8 values of W bits (1-32) from `bytes` (a group's first byte: a
/// group is W bytes) into `out`; reads up to 8 bytes past the last value's first byte (callers
/// check they are there). The offsets and shifts within a group are constants, so a value is a
/// load, a shift and a mask.
template <int W, typename T>
void UnpackGroups(const uint8_t* bytes, size_t groups, T* out) {
  static_assert(W >= 1 && W <= 32);
  constexpr uint64_t kMask = (uint64_t{1} << W) - 1;
  for (size_t g = 0; g < groups; ++g, bytes += W, out += 8) {
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      out[k] = static_cast<T>((LoadLittleEndian64(bytes + k * W / 8) >> (k * W % 8)) & kMask);
    }
  }
}

/// UnpackGroups<W> for a width known at run time (1-32).
template <typename T>
void UnpackGroups(int width, const uint8_t* bytes, size_t groups, T* out) {
  using Unpack = void (*)(const uint8_t*, size_t, T*);
  static constexpr auto kUnpack = []<int... W>(std::integer_sequence<int, W...>) {
    return std::array<Unpack, sizeof...(W)>{&UnpackGroups<W + 1, T>...};
  }
  (std::make_integer_sequence<int, 32>{});
  kUnpack[static_cast<size_t>(width - 1)](bytes, groups, out);
}

/// Bytes that `count` values of `width` bits take.
inline uint64_t PackedBytes(uint64_t count, int width) {
  return (count * static_cast<uint64_t>(width) + 7) / 8;
}

}  // namespace vpcflow::parquet
