#pragma once
/// Little-endian bit fields, as Parquet packs them (least significant bit first). Internal to
/// the Parquet layer. Pure, header-only.

#include <cstddef>
#include <cstdint>
#include <cstring>

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

/// Bytes that `count` values of `width` bits take.
inline uint64_t PackedBytes(uint64_t count, int width) {
  return (count * static_cast<uint64_t>(width) + 7) / 8;
}

}  // namespace vpcflow::parquet
