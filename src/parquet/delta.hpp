#pragma once
/// DELTA_BINARY_PACKED: integers as a first value plus blocks of bit-packed deltas (each block:
/// a zigzag min-delta, one bit width per miniblock, the miniblocks). Also the length stream of
/// DELTA_LENGTH_BYTE_ARRAY and the prefix/suffix-length streams of DELTA_BYTE_ARRAY. Decoder and
/// encoder. Arithmetic wraps (two's complement), as the format specifies. One thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vpcflow::parquet {

class DeltaDecoder {
 public:
  DeltaDecoder() = default;
  /// Reads the header at the start of `data` (not owned). Returns false when it is invalid
  /// (block size not a positive multiple of 128, miniblock size not a multiple of 32, ...).
  bool Init(std::span<const uint8_t> data);

  /// Values the stream holds (from its header).
  uint64_t total() const { return total_; }
  /// Decodes the next `n` values. Returns false when the stream holds fewer or is corrupt (the
  /// decoder then stays failed). Never allocates.
  bool Get(int64_t* out, size_t n);

  /// The number of bytes the whole stream takes (header and every block), found by walking the
  /// block headers without decoding; false when the data ends first. Call right after Init.
  bool Size(size_t* bytes) const;

 private:
  bool NextBlock();

  const uint8_t* begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* after_header_ = nullptr;
  uint64_t block_size_ = 0;
  uint64_t miniblocks_ = 0;
  uint64_t per_miniblock_ = 0;
  uint64_t total_ = 0;
  uint64_t returned_ = 0;  // values handed out so far
  int64_t last_ = 0;
  bool failed_ = false;
  // The current block.
  int64_t min_delta_ = 0;
  const uint8_t* widths_ = nullptr;
  uint64_t miniblock_ = 0;     // index of the current miniblock
  uint64_t in_miniblock_ = 0;  // values taken from it
  const uint8_t* mini_data_ = nullptr;
  uint64_t mini_size_ = 0;  // bytes of the current miniblock present in the data
  bool in_block_ = false;
};

/// Appends `values` in DELTA_BINARY_PACKED (block 128, 4 miniblocks of 32) to `out`.
void DeltaEncode(std::span<const int64_t> values, std::string* out);

}  // namespace vpcflow::parquet
