// Page layouts and encodings: parquet-format's README.md ("Data Pages") and Encodings.md.
#include "parquet/column_reader.hpp"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/little_endian.hpp"
#include "parquet/codec.hpp"

namespace vpcflow::parquet {
namespace {

ByteView View(const uint8_t* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

struct ColumnChunkReader::RunBuffers {
  uint8_t present[kMaxRun];
  int64_t ints[kMaxRun];
  ByteView strings[kMaxRun];
  uint32_t scratch[kMaxRun];
  int64_t lengths[kMaxRun];
  int64_t suffixes[kMaxRun];
};

namespace {

// Run buffers of the readers destroyed on this thread, for the next ones: a digest makes a
// reader per needed column per row group, and would otherwise allocate (and the kernel fault
// in) 45 KB for each.
constexpr size_t kPooledRunBuffers = 32;
thread_local std::vector<std::unique_ptr<ColumnChunkReader::RunBuffers>> run_buffer_pool;

std::unique_ptr<ColumnChunkReader::RunBuffers> TakeRunBuffers() {
  if (run_buffer_pool.empty()) {
    // Default-initialized, as `new T` is: the buffers are written before they are read.
    return std::make_unique_for_overwrite<ColumnChunkReader::RunBuffers>();
  }
  std::unique_ptr<ColumnChunkReader::RunBuffers> buffers = std::move(run_buffer_pool.back());
  run_buffer_pool.pop_back();
  return buffers;
}

// What CountPresent returns when a definition level is above 1.
constexpr size_t kLevelAboveMax = SIZE_MAX;

// The 1s among `n` definition levels of a flat optional column (each 0 or 1), or kLevelAboveMax
// when one is above 1. Eight at a time: one check after the loop, so that the loop has no exit.
size_t CountPresent(const uint8_t* levels, size_t n) {
  constexpr uint64_t kLowBits = 0x0101010101010101;
  uint64_t above = 0;
  size_t present = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, levels + i, 8);
    above |= w & ~kLowBits;
    present += static_cast<size_t>(((w & kLowBits) * kLowBits) >> 56);  // the sum of its bytes
  }
  for (; i < n; ++i) {
    above |= levels[i] & 0xfe;
    present += levels[i] & 1;
  }
  return above != 0 ? kLevelAboveMax : present;
}

// Whether any of `values` is `bound` or above: one check after the loop, so that the loop has
// no exit, and flags ORed four at a time, not a running maximum, so that no value waits for the
// one before.
bool AnyAtLeast(const uint32_t* values, size_t n, size_t bound) {
  if (bound == 0) return n > 0;
  const auto last_ok = static_cast<uint32_t>(std::min<size_t>(bound - 1, UINT32_MAX));
  size_t i = 0;
  uint32_t past = 0;
#if defined(__SSE2__)
  // Unsigned v > last_ok as a signed compare of both with the top bit flipped (SSE2 has no
  // unsigned compare).
  const __m128i flip = _mm_set1_epi32(INT32_MIN);
  const __m128i limit = _mm_xor_si128(_mm_set1_epi32(static_cast<int32_t>(last_ok)), flip);
  __m128i any = _mm_setzero_si128();
  for (; i + 4 <= n; i += 4) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(values + i));
    any = _mm_or_si128(any, _mm_cmpgt_epi32(_mm_xor_si128(v, flip), limit));
  }
  past = static_cast<uint32_t>(_mm_movemask_epi8(any));
#endif
  for (; i < n; ++i) past |= static_cast<uint32_t>(values[i] > last_ok);
  return past != 0;
}

}  // namespace

Status ByteBudget::Take(uint64_t bytes, std::string_view what) {
  if (bytes > limit_ - used_) {
    return DataLossError(std::string(what) + " of " + std::to_string(bytes) +
                         " bytes would pass the memory limit of " + std::to_string(limit_) +
                         " bytes for one row group's columns");
  }
  used_ += bytes;
  return OkStatus();
}

Result<std::unique_ptr<ColumnChunkReader>> ColumnChunkReader::Make(std::string name,
                                                                   const LeafColumn& leaf,
                                                                   const ColumnChunkMeta& meta,
                                                                   std::span<const uint8_t> chunk,
                                                                   ByteBudget* budget) {
  const std::string where = "column '" + name + "': ";
  switch (leaf.type) {
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
    case PhysicalType::kByteArray:
      break;
    case PhysicalType::kFixedLenByteArray:
      if (leaf.type_length > 0) break;
      return DataLossError(where + "FIXED_LEN_BYTE_ARRAY of length " +
                           std::to_string(leaf.type_length));
    default:
      return DataLossError(where + "type " + PhysicalTypeName(leaf.type) + " is not supported");
  }
  if (leaf.nested || leaf.max_repetition_level > 0 || leaf.max_definition_level > 1) {
    return DataLossError(where + "nested or repeated columns are not supported");
  }
  if (!IsSupportedCodec(meta.codec)) {
    return DataLossError(where + "compression codec " + CodecName(meta.codec) +
                         " is not supported");
  }
  return std::unique_ptr<ColumnChunkReader>(
      new ColumnChunkReader(std::move(name), leaf, meta, chunk, budget));
}

ColumnChunkReader::ColumnChunkReader(std::string name, const LeafColumn& leaf,
                                     const ColumnChunkMeta& meta, std::span<const uint8_t> chunk,
                                     ByteBudget* budget)
    : name_(std::move(name)),
      type_(leaf.type),
      type_length_(leaf.type_length),
      unsigned_(leaf.is_unsigned),
      optional_(leaf.max_definition_level == 1),
      codec_(meta.codec),
      chunk_(chunk),
      budget_(budget),
      run_(TakeRunBuffers()),
      present_(run_->present),
      ints_(run_->ints),
      strings_(run_->strings),
      scratch_(run_->scratch),
      lengths_(run_->lengths),
      suffixes_(run_->suffixes) {}

void ColumnChunkReader::ReleaseThreadRunBuffers() {
  decltype(run_buffer_pool)().swap(run_buffer_pool);
}

ColumnChunkReader::~ColumnChunkReader() {
  budget_->Give(page_.capacity + dictionary_page_.capacity + dictionary_accounted_ +
                arena_accounted_);
  if (run_buffer_pool.size() < kPooledRunBuffers) run_buffer_pool.push_back(std::move(run_));
}

Status ColumnChunkReader::Corrupt(std::string_view what) const {
  return DataLossError("column '" + name_ + "': " + std::string(what));
}

size_t ColumnChunkReader::value_width() const {
  switch (type_) {
    case PhysicalType::kInt32:
      return 4;
    case PhysicalType::kInt64:
      return 8;
    default:
      return static_cast<size_t>(type_length_);
  }
}

Status ColumnChunkReader::Reserve(Buffer* buffer, size_t size, std::string_view what) {
  if (size <= buffer->capacity) return OkStatus();
  VPCFLOW_RETURN_IF_ERROR(
      budget_->Take(size - buffer->capacity, "column '" + name_ + "': " + std::string(what)));
  buffer->data.reset(new uint8_t[size]);
  buffer->capacity = size;
  return OkStatus();
}

Status ColumnChunkReader::Account(uint64_t* accounted, uint64_t bytes, std::string_view what) {
  if (bytes <= *accounted) return OkStatus();
  VPCFLOW_RETURN_IF_ERROR(
      budget_->Take(bytes - *accounted, "column '" + name_ + "': " + std::string(what)));
  *accounted = bytes;
  return OkStatus();
}

Result<std::span<const uint8_t>> ColumnChunkReader::PageBytes(std::span<const uint8_t> stored,
                                                              size_t size, bool compressed,
                                                              Buffer* buffer) {
  if (!compressed) {
    if (stored.size() != size) {
      return Corrupt("an uncompressed page of " + std::to_string(stored.size()) +
                     " bytes says it holds " + std::to_string(size));
    }
    return stored;
  }
  VPCFLOW_RETURN_IF_ERROR(Reserve(buffer, size, "a page"));
  const std::span<uint8_t> out(buffer->data.get(), size);
  Status s = Decompress(codec_, stored, out);
  if (!s.ok()) return Corrupt(s.message());
  return std::span<const uint8_t>(out);
}

Status ColumnChunkReader::ReadDictionary(const PageHeader& header,
                                         std::span<const uint8_t> stored) {
  if (seen_data_page_ || has_dictionary_) return Corrupt("a dictionary page after the first page");
  const DictionaryPageHeader& d = *header.dictionary_page;
  if (d.encoding != Encoding::kPlain && d.encoding != Encoding::kPlainDictionary) {
    return Corrupt("a dictionary in " + EncodingName(d.encoding));
  }
  VPCFLOW_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes,
                           PageBytes(stored, static_cast<size_t>(header.uncompressed_page_size),
                                     codec_ != Codec::kUncompressed, &dictionary_page_));
  decompressed_bytes_ += bytes.size();
  const size_t n = static_cast<size_t>(d.num_values);
  // The smallest PLAIN value takes 4 bytes (a length, or an INT32): more values than that
  // cannot be there, so the vectors below stay proportional to the page.
  const size_t min_width = type_ == PhysicalType::kByteArray ? 4 : value_width();
  if (n > bytes.size() / min_width) return Corrupt("a dictionary holds fewer values than it says");
  if (is_int()) {
    VPCFLOW_RETURN_IF_ERROR(Account(&dictionary_accounted_, n * sizeof(int64_t), "the dictionary"));
    dictionary_ints_.resize(n);
    const size_t width = value_width();
    for (size_t i = 0; i < n; ++i) {
      dictionary_ints_[i] =
          width == 4 ? (unsigned_ ? static_cast<int64_t>(LoadLittleEndian32(&bytes[4 * i]))
                                  : static_cast<int64_t>(
                                        static_cast<int32_t>(LoadLittleEndian32(&bytes[4 * i]))))
                     : static_cast<int64_t>(LoadLittleEndian64(&bytes[8 * i]));
    }
  } else {
    VPCFLOW_RETURN_IF_ERROR(
        Account(&dictionary_accounted_, n * sizeof(ByteView), "the dictionary"));
    dictionary_strings_.resize(n);
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t length = value_width();
      if (type_ == PhysicalType::kByteArray) {
        if (bytes.size() - pos < 4) return Corrupt("the dictionary ends early");
        length = LoadLittleEndian32(&bytes[pos]);
        pos += 4;
      }
      if (bytes.size() - pos < length) return Corrupt("the dictionary ends early");
      dictionary_strings_[i] = View(&bytes[pos], length);
      pos += length;
    }
    dictionary_end_ = reinterpret_cast<const char*>(bytes.data() + bytes.size());
  }
  has_dictionary_ = true;
  return OkStatus();
}

Status ColumnChunkReader::LoadPage(bool* end) {
  for (;;) {
    if (pos_ >= chunk_.size()) {
      *end = true;
      return OkStatus();
    }
    size_t consumed = 0;
    Result<PageHeader> parsed = ParsePageHeader(chunk_.subspan(pos_), &consumed);
    if (!parsed.ok()) return Corrupt("page header: " + parsed.status().message());
    const PageHeader& header = *parsed;
    pos_ += consumed;
    const auto stored_size = static_cast<size_t>(header.compressed_page_size);
    if (stored_size > chunk_.size() - pos_) return Corrupt("a page ends past its column chunk");
    const std::span<const uint8_t> stored = chunk_.subspan(pos_, stored_size);
    pos_ += stored_size;
    const auto size = static_cast<size_t>(header.uncompressed_page_size);

    if (header.type == PageType::kDictionaryPage) {
      VPCFLOW_RETURN_IF_ERROR(ReadDictionary(header, stored));
      continue;
    }
    if (header.type == PageType::kDataPage) {
      const DataPageHeader& d = *header.data_page;
      VPCFLOW_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes,
                               PageBytes(stored, size, codec_ != Codec::kUncompressed, &page_));
      decompressed_bytes_ += bytes.size();
      if (optional_) {
        if (d.definition_level_encoding != Encoding::kRle) {
          return Corrupt("definition levels in " + EncodingName(d.definition_level_encoding) +
                         " are not supported");
        }
        if (bytes.size() < 4) return Corrupt("a data page ends inside its levels");
        const uint32_t length = LoadLittleEndian32(bytes.data());
        if (length > bytes.size() - 4) return Corrupt("definition levels past the page's end");
        levels_ = RleDecoder(bytes.subspan(4, length), 1);
        bytes = bytes.subspan(4 + length);
      }
      seen_data_page_ = true;
      VPCFLOW_RETURN_IF_ERROR(StartValues(d.encoding, bytes));
      page_left_ = static_cast<uint64_t>(d.num_values);
      return OkStatus();
    }
    if (header.type == PageType::kDataPageV2) {
      const DataPageHeaderV2& d = *header.data_page_v2;
      const auto rep = static_cast<size_t>(d.repetition_levels_byte_length);
      const auto def = static_cast<size_t>(d.definition_levels_byte_length);
      if (rep + def > stored.size() || rep + def > size) {
        return Corrupt("levels longer than their page");
      }
      if (optional_) levels_ = RleDecoder(stored.subspan(rep, def), 1);
      VPCFLOW_ASSIGN_OR_RETURN(
          std::span<const uint8_t> bytes,
          PageBytes(stored.subspan(rep + def), size - rep - def,
                    d.is_compressed && codec_ != Codec::kUncompressed, &page_));
      decompressed_bytes_ += rep + def + bytes.size();
      seen_data_page_ = true;
      VPCFLOW_RETURN_IF_ERROR(StartValues(d.encoding, bytes));
      page_left_ = static_cast<uint64_t>(d.num_values);
      return OkStatus();
    }
    // Index pages (and page types from later versions) carry no values.
  }
}

Status ColumnChunkReader::StartValues(Encoding encoding, std::span<const uint8_t> values) {
  encoding_ = encoding;
  values_ = values;
  values_pos_ = 0;
  switch (encoding) {
    case Encoding::kPlain:
      return OkStatus();
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: {
      if (!has_dictionary_) return Corrupt("a dictionary-encoded page without a dictionary");
      // A page of nulls only may have no values at all, not even the bit width.
      if (values.empty()) {
        indices_ = RleDecoder(values, 0);
        return OkStatus();
      }
      if (values[0] > 32) return Corrupt("a dictionary index width above 32");
      indices_ = RleDecoder(values.subspan(1), values[0]);
      return OkStatus();
    }
    case Encoding::kDeltaBinaryPacked:
      if (!is_int()) break;
      delta_ = DeltaDecoder();
      if (!values.empty() && !delta_.Init(values))
        return Corrupt("a bad DELTA_BINARY_PACKED header");
      return OkStatus();
    case Encoding::kDeltaLengthByteArray: {
      if (type_ != PhysicalType::kByteArray) break;
      delta_ = DeltaDecoder();
      if (values.empty()) return OkStatus();
      size_t lengths_size = 0;
      if (!delta_.Init(values) || !delta_.Size(&lengths_size)) {
        return Corrupt("bad DELTA_LENGTH_BYTE_ARRAY lengths");
      }
      values_pos_ = lengths_size;
      return OkStatus();
    }
    case Encoding::kDeltaByteArray: {
      if (is_int()) break;
      delta_ = DeltaDecoder();
      suffix_lengths_ = DeltaDecoder();
      previous_.clear();
      if (values.empty()) return OkStatus();
      size_t prefixes_size = 0;
      size_t suffixes_size = 0;
      if (!delta_.Init(values) || !delta_.Size(&prefixes_size) ||
          !suffix_lengths_.Init(values.subspan(prefixes_size)) ||
          !suffix_lengths_.Size(&suffixes_size)) {
        return Corrupt("bad DELTA_BYTE_ARRAY lengths");
      }
      values_pos_ = prefixes_size + suffixes_size;
      return OkStatus();
    }
    case Encoding::kByteStreamSplit:
      if (!is_int()) break;
      if (values.size() % value_width() != 0) {
        return Corrupt("BYTE_STREAM_SPLIT data is not a whole number of values");
      }
      stream_values_ = values.size() / value_width();
      stream_pos_ = 0;
      return OkStatus();
    default:
      break;
  }
  return Corrupt("values in " + EncodingName(encoding) + " are not supported for " +
                 PhysicalTypeName(type_));
}

Result<size_t> ColumnChunkReader::Next(size_t max) {
  while (page_left_ == 0) {
    bool end = false;
    VPCFLOW_RETURN_IF_ERROR(LoadPage(&end));
    if (end) return size_t{0};
  }
  const size_t n = static_cast<size_t>(std::min<uint64_t>({page_left_, max, kMaxRun}));
  size_t present = n;
  if (optional_) {
    if (!levels_.GetBytes(present_, n)) return Corrupt("definition levels end early");
    present = CountPresent(present_, n);
    if (present == kLevelAboveMax) return Corrupt("a definition level above the column's maximum");
  } else {
    std::memset(present_, 1, n);
  }
  strings_unset_ = false;
  VPCFLOW_RETURN_IF_ERROR(DecodeValues(present));
  from_dictionary_ =
      encoding_ == Encoding::kPlainDictionary || encoding_ == Encoding::kRleDictionary;
  if (present < n) {
    // Values (and dictionary indices) were decoded densely: move each block of them between
    // nulls to its rows, back to front (nulls are usually few, so the blocks are long).
    size_t j = present;           // values [0, j) not placed yet
    for (size_t i = n; i > j;) {  // rows [0, i) not placed yet, i - j of them null
      const auto* null = static_cast<const uint8_t*>(memrchr(present_, 0, i));
      const size_t at = static_cast<size_t>(null - present_);
      const size_t block = i - at - 1;
      j -= block;
      if (is_int()) {
        std::memmove(ints_ + at + 1, ints_ + j, block * sizeof(*ints_));
        ints_[at] = 0;
      } else if (!strings_unset_) {
        std::memmove(strings_ + at + 1, strings_ + j, block * sizeof(*strings_));
        strings_[at] = ByteView{nullptr, 0};
      }
      if (from_dictionary_) {
        std::memmove(scratch_ + at + 1, scratch_ + j, block * sizeof(*scratch_));
        scratch_[at] = 0;
      }
      i = at;
    }
  }
  page_left_ -= n;
  return n;
}

Status ColumnChunkReader::DecodeValues(size_t n) {
  if (n == 0) return OkStatus();
  switch (encoding_) {
    case Encoding::kPlain:
      return DecodePlain(n);
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary:
      return DecodeDictionary(n);
    case Encoding::kDeltaBinaryPacked:
      return DecodeDeltaInts(n);
    case Encoding::kDeltaLengthByteArray:
      return DecodeDeltaLength(n);
    case Encoding::kDeltaByteArray:
      return DecodeDeltaByteArray(n);
    case Encoding::kByteStreamSplit:
      return DecodeByteStreamSplit(n);
    default:
      return Corrupt("unsupported encoding");  // StartValues refused it already
  }
}

Status ColumnChunkReader::DecodePlain(size_t n) {
  const uint8_t* data = values_.data();
  const size_t size = values_.size();
  if (is_int()) {
    const size_t width = value_width();
    if ((size - values_pos_) / width < n) return Corrupt("PLAIN values end early");
    const uint8_t* p = data + values_pos_;
    for (size_t i = 0; i < n; ++i, p += width) {
      if (width == 8) {
        ints_[i] = static_cast<int64_t>(LoadLittleEndian64(p));
      } else {
        const uint32_t v = LoadLittleEndian32(p);
        ints_[i] =
            unsigned_ ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int32_t>(v));
      }
    }
    values_pos_ += n * width;
    return OkStatus();
  }
  for (size_t i = 0; i < n; ++i) {
    size_t length = value_width();
    if (type_ == PhysicalType::kByteArray) {
      if (size - values_pos_ < 4) return Corrupt("PLAIN values end early");
      length = LoadLittleEndian32(data + values_pos_);
      values_pos_ += 4;
    }
    if (size - values_pos_ < length) return Corrupt("PLAIN values end early");
    strings_[i] = View(data + values_pos_, length);
    values_pos_ += length;
  }
  return OkStatus();
}

Status ColumnChunkReader::DecodeDictionary(size_t n) {
  if (!indices_.Get(scratch_, n)) return Corrupt("dictionary indices end early");
  const size_t size = is_int() ? dictionary_ints_.size() : dictionary_strings_.size();
  if (AnyAtLeast(scratch_, n, size)) {
    const uint32_t largest = *std::max_element(scratch_, scratch_ + n);
    return Corrupt("dictionary index " + std::to_string(largest) + " past the " +
                   std::to_string(size) + " values of the dictionary");
  }
  if (is_int()) {
    for (size_t i = 0; i < n; ++i) ints_[i] = dictionary_ints_[scratch_[i]];
  } else if (size > unset_up_to_) {
    for (size_t i = 0; i < n; ++i) strings_[i] = dictionary_strings_[scratch_[i]];
  } else {
    strings_unset_ = true;  // the caller reads the dictionary by index
  }
  return OkStatus();
}

Status ColumnChunkReader::DecodeDeltaInts(size_t n) {
  if (!delta_.Get(ints_, n)) return Corrupt("DELTA_BINARY_PACKED values end early");
  if (type_ == PhysicalType::kInt32) {
    // 64-bit wrapping sums truncated to 32 bits equal the 32-bit wrapping sums.
    for (size_t i = 0; i < n; ++i) {
      const auto v = static_cast<uint32_t>(ints_[i]);
      ints_[i] =
          unsigned_ ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int32_t>(v));
    }
  }
  return OkStatus();
}

Status ColumnChunkReader::DecodeDeltaLength(size_t n) {
  if (!delta_.Get(lengths_, n)) return Corrupt("DELTA_LENGTH_BYTE_ARRAY lengths end early");
  for (size_t i = 0; i < n; ++i) {
    const int64_t length = lengths_[i];
    if (length < 0 || static_cast<uint64_t>(length) > values_.size() - values_pos_) {
      return Corrupt("a DELTA_LENGTH_BYTE_ARRAY length past the page's end");
    }
    strings_[i] = View(values_.data() + values_pos_, static_cast<size_t>(length));
    values_pos_ += static_cast<size_t>(length);
  }
  return OkStatus();
}

Status ColumnChunkReader::DecodeDeltaByteArray(size_t n) {
  if (!delta_.Get(lengths_, n) || !suffix_lengths_.Get(suffixes_, n)) {
    return Corrupt("DELTA_BYTE_ARRAY lengths end early");
  }
  // Check every length and size the arena first: the run's values are built in one buffer
  // whose size is reserved from the budget before it grows.
  uint64_t total = 0;
  uint64_t previous = previous_.size();
  uint64_t suffix_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    if (lengths_[i] < 0 || static_cast<uint64_t>(lengths_[i]) > previous || suffixes_[i] < 0 ||
        static_cast<uint64_t>(suffixes_[i]) > values_.size() - values_pos_ - suffix_bytes) {
      return Corrupt("a DELTA_BYTE_ARRAY prefix or suffix out of range");
    }
    suffix_bytes += static_cast<uint64_t>(suffixes_[i]);
    previous = static_cast<uint64_t>(lengths_[i]) + static_cast<uint64_t>(suffixes_[i]);
    if (type_ == PhysicalType::kFixedLenByteArray && previous != value_width()) {
      return Corrupt("a DELTA_BYTE_ARRAY value of the wrong length");
    }
    total += previous;
  }
  VPCFLOW_RETURN_IF_ERROR(Account(&arena_accounted_, total, "DELTA_BYTE_ARRAY values"));
  arena_.clear();
  arena_.reserve(total);
  for (size_t i = 0; i < n; ++i) {
    const auto prefix = static_cast<size_t>(lengths_[i]);
    const auto suffix = static_cast<size_t>(suffixes_[i]);
    previous_.resize(prefix);
    previous_.append(reinterpret_cast<const char*>(values_.data() + values_pos_), suffix);
    values_pos_ += suffix;
    lengths_[i] = static_cast<int64_t>(arena_.size());
    arena_.append(previous_);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto start = static_cast<size_t>(lengths_[i]);
    const size_t end = i + 1 < n ? static_cast<size_t>(lengths_[i + 1]) : arena_.size();
    strings_[i] = ByteView{arena_.data() + start, end - start};
  }
  return OkStatus();
}

Status ColumnChunkReader::DecodeByteStreamSplit(size_t n) {
  if (stream_values_ - stream_pos_ < n) return Corrupt("BYTE_STREAM_SPLIT values end early");
  const size_t width = value_width();
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    for (size_t b = 0; b < width; ++b) {
      v |= static_cast<uint64_t>(values_[b * stream_values_ + stream_pos_ + i]) << (8 * b);
    }
    ints_[i] = width == 8  ? static_cast<int64_t>(v)
               : unsigned_ ? static_cast<int64_t>(static_cast<uint32_t>(v))
                           : static_cast<int64_t>(static_cast<int32_t>(v));
  }
  stream_pos_ += n;
  return OkStatus();
}

}  // namespace vpcflow::parquet
