#pragma once
/// The RLE / bit-packed hybrid encoding (Parquet's "RLE"): definition levels and dictionary
/// indices. A stream of runs, each a varint header: `count << 1` then one value of
/// ceil(width / 8) bytes (an RLE run), or `groups << 1 | 1` then groups * 8 values bit-packed
/// (a literal run). Decoder and encoder. One thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vpcflow::parquet {

class RleDecoder {
 public:
  RleDecoder() = default;
  /// Values of `width` bits (0-32) from `data` (not owned).
  RleDecoder(std::span<const uint8_t> data, int width);

  /// Decodes the next `n` values into `out`. Returns false when the data ends before `n` values
  /// or a width is invalid (the decoder then stays failed). A literal run whose bytes are cut
  /// short yields only the values its bytes hold. Never allocates.
  bool Get(uint32_t* out, size_t n);
  /// The same into bytes, for widths up to 8 (definition levels): an RLE run is one memset.
  /// Returns false (and fails) for a wider decoder.
  bool GetBytes(uint8_t* out, size_t n);

 private:
  bool NextRun();
  template <typename T>
  bool GetInto(T* out, size_t n);

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int width_ = 0;
  bool failed_ = false;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t literal_left_ = 0;
  const uint8_t* literal_ = nullptr;  // the literal run's bytes
  uint64_t literal_size_ = 0;
  uint64_t literal_index_ = 0;  // the next value's index in the run
};

/// Appends `values` (each below 2^width, width 0-32) in the hybrid encoding to `out`: runs of 8
/// or more equal values as RLE runs, the rest as literal runs (the last padded with zeros).
void RleEncode(std::span<const uint32_t> values, int width, std::string* out);

/// The bit width that holds every value up to `max_value`.
int BitWidth(uint64_t max_value);

}  // namespace vpcflow::parquet
