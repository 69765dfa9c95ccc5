#pragma once
/// Decodes one column chunk of a flat column (INT32, INT64, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY;
/// REQUIRED or OPTIONAL) page by page into runs of values. Pages: dictionary (first), data v1
/// and v2, index pages skipped. Values: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY,
/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; definition
/// levels RLE. One thread at a time.
///
/// Memory: one decompressed page and the dictionary at a time, each reserved from the shared
/// ByteBudget before it is allocated; values are handed out in runs of at most kMaxRun. Every
/// error is DataLoss naming the column.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/delta.hpp"
#include "parquet/metadata.hpp"
#include "parquet/rle.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

/// A value's bytes: a plain pair, so that arrays of them cost nothing until written.
struct ByteView {
  const char* data;
  size_t size;
  std::string_view view() const { return {data, size}; }
};

/// Bytes that may be held at once by the readers of one row group. Not thread-safe.
class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit) {}
  /// Takes `bytes` from the budget; DataLoss naming `what` when they do not fit.
  Status Take(uint64_t bytes, std::string_view what);
  void Give(uint64_t bytes) { used_ -= bytes < used_ ? bytes : used_; }
  uint64_t used() const { return used_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
};

class ColumnChunkReader {
 public:
  /// Values handed out by one Next() at most.
  static constexpr size_t kMaxRun = 1024;

  /// `chunk` holds the chunk's bytes (from its first page to the end of its last), not owned,
  /// alive as long as the reader. `name` is for messages. `budget` must outlive the reader.
  /// Returns DataLoss for a column the reader cannot decode (another type, repeated or nested
  /// levels, an unsupported codec).
  static Result<std::unique_ptr<ColumnChunkReader>> Make(std::string name, const LeafColumn& leaf,
                                                         const ColumnChunkMeta& meta,
                                                         std::span<const uint8_t> chunk,
                                                         ByteBudget* budget);
  ~ColumnChunkReader();
  ColumnChunkReader(const ColumnChunkReader&) = delete;
  ColumnChunkReader& operator=(const ColumnChunkReader&) = delete;

  /// Decodes the next values, at most `max` (<= kMaxRun) and all from one page. Returns how
  /// many: 0 only when the chunk has no more pages. The arrays below hold them until the next
  /// call (strings may point into the page, the dictionary or an internal arena).
  Result<size_t> Next(size_t max);

  /// Per value: 1 when present, 0 when null.
  const uint8_t* present() const { return present_; }
  /// INT32 (sign- or, when unsigned, zero-extended) and INT64 values; 0 where null.
  const int64_t* ints() const { return ints_; }
  /// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values; empty where null.
  const ByteView* strings() const { return strings_; }
  bool is_int() const { return type_ == PhysicalType::kInt32 || type_ == PhysicalType::kInt64; }
  /// INT64 values of an unsigned column are uint64 bit patterns.
  bool is_unsigned() const { return unsigned_; }
  /// Decompressed bytes of the pages read so far.
  uint64_t decompressed_bytes() const { return decompressed_bytes_; }

  /// When the current run was decoded from the dictionary: each value's index in it (0 where
  /// null), so that callers can cache work per distinct value. Null otherwise.
  const uint32_t* dictionary_indices() const { return from_dictionary_ ? scratch_ : nullptr; }
  /// Values in the dictionary (0 before one was read).
  size_t dictionary_size() const {
    return is_int() ? dictionary_ints_.size() : dictionary_strings_.size();
  }
  /// The dictionary's BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values (dictionary_size() of them),
  /// and the end of the bytes they lie in (a value's bytes may be read up to it).
  const ByteView* dictionary_strings() const { return dictionary_strings_.data(); }
  const char* dictionary_bytes_end() const { return dictionary_end_; }
  /// From now on, a run of strings decoded from a dictionary of at most `max_values` values (0:
  /// none) leaves strings() unset: the caller reads a present value i as
  /// dictionary_strings()[dictionary_indices()[i]] (strings_unset() tells which runs).
  void LeaveDictionaryStringsUnset(size_t max_values) { unset_up_to_ = max_values; }
  /// Whether the current run left strings() unset (LeaveDictionaryStringsUnset).
  bool strings_unset() const { return strings_unset_; }

  struct RunBuffers;  ///< internal: the arrays above (pooled per thread)
  /// Frees the run buffers this thread keeps for its next readers (~45 KB each, up to 32): a
  /// thread done reading Parquet calls it, so that they do not outlive the reading.
  static void ReleaseThreadRunBuffers();

 private:
  ColumnChunkReader(std::string name, const LeafColumn& leaf, const ColumnChunkMeta& meta,
                    std::span<const uint8_t> chunk, ByteBudget* budget);

  Status Corrupt(std::string_view what) const;
  Status LoadPage(bool* end);
  // Memory reserved from the budget, not zero-filled.
  struct Buffer {
    std::unique_ptr<uint8_t[]> data;
    size_t capacity = 0;
  };
  Result<std::span<const uint8_t>> PageBytes(std::span<const uint8_t> stored, size_t size,
                                             bool compressed, Buffer* buffer);
  Status ReadDictionary(const PageHeader& header, std::span<const uint8_t> stored);
  Status StartValues(Encoding encoding, std::span<const uint8_t> values);
  Status DecodeValues(size_t n);
  Status DecodePlain(size_t n);
  Status DecodeDictionary(size_t n);
  Status DecodeDeltaInts(size_t n);
  Status DecodeDeltaLength(size_t n);
  Status DecodeDeltaByteArray(size_t n);
  Status DecodeByteStreamSplit(size_t n);
  Status Reserve(Buffer* buffer, size_t size, std::string_view what);
  Status Account(uint64_t* accounted, uint64_t bytes, std::string_view what);
  size_t value_width() const;

  const std::string name_;
  const PhysicalType type_;
  const int32_t type_length_;
  const bool unsigned_;
  const bool optional_;
  const Codec codec_;
  const std::span<const uint8_t> chunk_;
  ByteBudget* const budget_;
  size_t pos_ = 0;  // next page header in chunk_
  bool seen_data_page_ = false;
  uint64_t decompressed_bytes_ = 0;

  // The dictionary (decoded once per chunk).
  Buffer dictionary_page_;
  uint64_t dictionary_accounted_ = 0;  // budget taken by the decoded dictionary
  std::vector<int64_t> dictionary_ints_;
  std::vector<ByteView> dictionary_strings_;
  const char* dictionary_end_ = nullptr;  // of the bytes dictionary_strings_ lie in
  bool has_dictionary_ = false;
  bool from_dictionary_ = false;  // the current run
  size_t unset_up_to_ = 0;        // LeaveDictionaryStringsUnset
  bool strings_unset_ = false;    // the current run

  // The current data page.
  Buffer page_;             // decompressed bytes (unused when stored uncompressed)
  uint64_t page_left_ = 0;  // values (nulls included) not handed out yet
  RleDecoder levels_;       // definition levels (optional columns)
  Encoding encoding_ = Encoding::kPlain;
  std::span<const uint8_t> values_;  // the encoded values (PLAIN, DELTA data, BSS streams)
  size_t values_pos_ = 0;
  RleDecoder indices_;           // dictionary indices
  DeltaDecoder delta_;           // ints, or lengths / prefix lengths
  DeltaDecoder suffix_lengths_;  // DELTA_BYTE_ARRAY
  std::string previous_;         // DELTA_BYTE_ARRAY: the last value
  std::string arena_;            // DELTA_BYTE_ARRAY: this run's values
  uint64_t arena_accounted_ = 0;
  uint64_t stream_values_ = 0;  // BYTE_STREAM_SPLIT: values in the page
  uint64_t stream_pos_ = 0;

  // The current run, in buffers reused by the next reader on this thread (column_reader.cpp).
  std::unique_ptr<RunBuffers> run_;
  uint8_t* const present_;
  int64_t* const ints_;
  ByteView* const strings_;
  uint32_t* const scratch_;
  int64_t* const lengths_;
  int64_t* const suffixes_;
};

}  // namespace vpcflow::parquet
