#include "parquet/writer.hpp"

#include <algorithm>
#include <unordered_map>

#include "common/little_endian.hpp"
#include "parquet/codec.hpp"
#include "parquet/delta.hpp"
#include "parquet/rle.hpp"

namespace vpcflow::parquet {
namespace {

constexpr std::string_view kMagic = "PAR1";

void PutU32(uint64_t v, std::string* out) { AppendLittleEndian(v, 4, out); }
void PutU64(uint64_t v, std::string* out) { AppendLittleEndian(v, 8, out); }

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool IsInt(PhysicalType type) {
  return type == PhysicalType::kInt32 || type == PhysicalType::kInt64;
}

}  // namespace

Writer::Writer(std::vector<WriterColumn> columns, WriterOptions options)
    : schema_(std::move(columns)), options_(std::move(options)), columns_(schema_.size()) {
  file_.append(kMagic);
}

void Writer::SetInt(size_t c, int64_t value) {
  Column& col = columns_[c];
  if (col.set) return;
  col.set = true;
  col.present.push_back(1);
  col.ints.push_back(value);
}

void Writer::SetBytes(size_t c, std::string_view value) {
  Column& col = columns_[c];
  if (col.set) return;
  col.set = true;
  col.present.push_back(1);
  col.bytes.append(value);
  col.ends.push_back(static_cast<uint32_t>(col.bytes.size()));
}

Status Writer::EndRow() {
  for (Column& col : columns_) {
    if (!col.set) col.present.push_back(0);
    col.set = false;
  }
  ++rows_total_;
  if (++rows_in_group_ >= options_.row_group_rows) return FlushRowGroup();
  return OkStatus();
}

Status Writer::FlushRowGroup() {
  if (rows_in_group_ == 0) return OkStatus();
  RowGroupMeta group;
  group.num_rows = rows_in_group_;
  group.columns.resize(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c)
    VPCFLOW_RETURN_IF_ERROR(WriteChunk(c, &group.columns[c]));
  row_groups_.push_back(std::move(group));
  for (Column& col : columns_) col = Column();
  rows_in_group_ = 0;
  return OkStatus();
}

Result<std::string> Writer::Finish() {
  VPCFLOW_RETURN_IF_ERROR(FlushRowGroup());
  const std::string footer = EncodeFileMetaData(schema_, row_groups_, options_.created_by);
  file_.append(footer);
  PutU32(static_cast<uint32_t>(footer.size()), &file_);
  file_.append(kMagic);
  return std::move(file_);
}

Status Writer::WriteChunk(size_t c, ColumnChunkMeta* meta) {
  const Column& col = columns_[c];
  const PhysicalType type = schema_[c].type;
  const size_t n_rows = col.present.size();
  meta->type = type;
  meta->codec = options_.codec;
  meta->num_values = static_cast<int64_t>(n_rows);

  // Data pages first (into a buffer): the dictionary page, written before them, must hold every
  // entry they use.
  std::string pages;
  std::unordered_map<std::string, uint32_t> string_index;
  std::unordered_map<int64_t, uint32_t> int_index;
  std::string dictionary;  // PLAIN values
  uint32_t dictionary_size = 0;
  bool use_dictionary = options_.dictionary;
  bool wrote_dictionary_page = false;
  std::vector<Encoding> encodings = {Encoding::kRle};
  int64_t uncompressed = 0;  // page headers and pages as they would be uncompressed
  size_t value = 0;
  for (size_t row = 0; row < n_rows; row += options_.page_rows) {
    const size_t rows = std::min(options_.page_rows, n_rows - row);
    const auto values = static_cast<size_t>(
        std::count(col.present.begin() + static_cast<std::ptrdiff_t>(row),
                   col.present.begin() + static_cast<std::ptrdiff_t>(row + rows), 1));
    Encoding used;
    if (use_dictionary) {
      std::vector<uint32_t> indices;
      for (size_t v = value; v < value + values; ++v) {
        uint32_t index;
        if (IsInt(type)) {
          auto [it, added] = int_index.emplace(col.ints[v], dictionary_size);
          if (added) {
            ++dictionary_size;
            if (type == PhysicalType::kInt32) {
              PutU32(static_cast<uint32_t>(col.ints[v]), &dictionary);
            } else {
              PutU64(static_cast<uint64_t>(col.ints[v]), &dictionary);
            }
          }
          index = it->second;
        } else {
          const uint32_t begin = v == 0 ? 0 : col.ends[v - 1];
          const std::string_view s = std::string_view(col.bytes).substr(begin, col.ends[v] - begin);
          auto [it, added] = string_index.emplace(std::string(s), dictionary_size);
          if (added) {
            ++dictionary_size;
            PutU32(static_cast<uint32_t>(s.size()), &dictionary);
            dictionary.append(s);
          }
          index = it->second;
        }
        indices.push_back(index);
      }
      const int width = BitWidth(dictionary_size > 0 ? dictionary_size - 1 : 0);
      VPCFLOW_RETURN_IF_ERROR(
          WritePage(c, row, rows, value, values, &indices, width, &pages, &used, &uncompressed));
      wrote_dictionary_page = true;
      // Past the size, later pages fall back to plain values (mid-chunk, like parquet-mr).
      if (dictionary.size() > options_.dictionary_max_bytes) use_dictionary = false;
    } else {
      VPCFLOW_RETURN_IF_ERROR(
          WritePage(c, row, rows, value, values, nullptr, 0, &pages, &used, &uncompressed));
    }
    if (std::find(encodings.begin(), encodings.end(), used) == encodings.end()) {
      encodings.push_back(used);
    }
    value += values;
  }

  const auto chunk_start = static_cast<int64_t>(file_.size());
  if (wrote_dictionary_page) {
    VPCFLOW_ASSIGN_OR_RETURN(std::string compressed, Compress(options_.codec, Bytes(dictionary)));
    PageHeader header;
    header.type = PageType::kDictionaryPage;
    header.uncompressed_page_size = static_cast<int32_t>(dictionary.size());
    header.compressed_page_size = static_cast<int32_t>(compressed.size());
    header.dictionary_page = DictionaryPageHeader{
        .num_values = static_cast<int32_t>(dictionary_size),
        .encoding = options_.data_page_v2 ? Encoding::kPlain : Encoding::kPlainDictionary};
    const std::string encoded = EncodePageHeader(header);
    file_.append(encoded);
    file_.append(compressed);
    uncompressed += static_cast<int64_t>(encoded.size() + dictionary.size());
    meta->dictionary_page_offset = chunk_start;
  }
  meta->data_page_offset = static_cast<int64_t>(file_.size());
  file_.append(pages);
  meta->total_compressed_size = static_cast<int64_t>(file_.size()) - chunk_start;
  meta->total_uncompressed_size = uncompressed;
  meta->encodings = std::move(encodings);
  return OkStatus();
}

Status Writer::WritePage(size_t c, size_t first_row, size_t rows, size_t first_value, size_t values,
                         const std::vector<uint32_t>* indices, int index_width, std::string* out,
                         Encoding* used, int64_t* uncompressed) {
  const Column& col = columns_[c];
  const PhysicalType type = schema_[c].type;
  std::vector<uint32_t> levels(col.present.begin() + static_cast<std::ptrdiff_t>(first_row),
                               col.present.begin() + static_cast<std::ptrdiff_t>(first_row + rows));
  std::string definition;
  RleEncode(levels, 1, &definition);

  auto bytes_at = [&](size_t v) {
    const uint32_t begin = v == 0 ? 0 : col.ends[v - 1];
    return std::string_view(col.bytes).substr(begin, col.ends[v] - begin);
  };
  std::string encoded;
  if (indices != nullptr) {
    *used = options_.data_page_v2 ? Encoding::kRleDictionary : Encoding::kPlainDictionary;
    encoded.push_back(static_cast<char>(index_width));
    RleEncode(*indices, index_width, &encoded);
  } else if (IsInt(type) && options_.plain_encoding == Encoding::kDeltaBinaryPacked) {
    *used = Encoding::kDeltaBinaryPacked;
    DeltaEncode(std::span<const int64_t>(col.ints).subspan(first_value, values), &encoded);
  } else if (!IsInt(type) && options_.plain_encoding == Encoding::kDeltaLengthByteArray) {
    *used = Encoding::kDeltaLengthByteArray;
    std::vector<int64_t> lengths;
    std::string data;
    for (size_t v = first_value; v < first_value + values; ++v) {
      lengths.push_back(static_cast<int64_t>(bytes_at(v).size()));
      data.append(bytes_at(v));
    }
    DeltaEncode(lengths, &encoded);
    encoded.append(data);
  } else if (!IsInt(type) && options_.plain_encoding == Encoding::kDeltaByteArray) {
    *used = Encoding::kDeltaByteArray;
    std::vector<int64_t> prefixes;
    std::vector<int64_t> suffixes;
    std::string data;
    std::string_view previous;
    for (size_t v = first_value; v < first_value + values; ++v) {
      const std::string_view s = bytes_at(v);
      size_t prefix = 0;
      while (prefix < s.size() && prefix < previous.size() && s[prefix] == previous[prefix]) {
        ++prefix;
      }
      prefixes.push_back(static_cast<int64_t>(prefix));
      suffixes.push_back(static_cast<int64_t>(s.size() - prefix));
      data.append(s.substr(prefix));
      previous = s;
    }
    DeltaEncode(prefixes, &encoded);
    DeltaEncode(suffixes, &encoded);
    encoded.append(data);
  } else {
    *used = Encoding::kPlain;
    for (size_t v = first_value; v < first_value + values; ++v) {
      if (type == PhysicalType::kInt32) {
        PutU32(static_cast<uint32_t>(col.ints[v]), &encoded);
      } else if (type == PhysicalType::kInt64) {
        PutU64(static_cast<uint64_t>(col.ints[v]), &encoded);
      } else {
        PutU32(static_cast<uint32_t>(bytes_at(v).size()), &encoded);
        encoded.append(bytes_at(v));
      }
    }
  }

  PageHeader header;
  std::string body;
  if (options_.data_page_v2) {
    VPCFLOW_ASSIGN_OR_RETURN(std::string compressed, Compress(options_.codec, Bytes(encoded)));
    header.type = PageType::kDataPageV2;
    header.uncompressed_page_size = static_cast<int32_t>(definition.size() + encoded.size());
    header.data_page_v2 =
        DataPageHeaderV2{.num_values = static_cast<int32_t>(rows),
                         .num_nulls = static_cast<int32_t>(rows - values),
                         .num_rows = static_cast<int32_t>(rows),
                         .encoding = *used,
                         .definition_levels_byte_length = static_cast<int32_t>(definition.size()),
                         .repetition_levels_byte_length = 0,
                         .is_compressed = true};
    body = definition + compressed;
  } else {
    std::string plain;
    PutU32(static_cast<uint32_t>(definition.size()), &plain);
    plain += definition;
    plain += encoded;
    VPCFLOW_ASSIGN_OR_RETURN(body, Compress(options_.codec, Bytes(plain)));
    header.type = PageType::kDataPage;
    header.uncompressed_page_size = static_cast<int32_t>(plain.size());
    header.data_page = DataPageHeader{.num_values = static_cast<int32_t>(rows),
                                      .encoding = *used,
                                      .definition_level_encoding = Encoding::kRle,
                                      .repetition_level_encoding = Encoding::kRle};
  }
  header.compressed_page_size = static_cast<int32_t>(body.size());
  const std::string encoded_header = EncodePageHeader(header);
  out->append(encoded_header);
  out->append(body);
  *uncompressed += static_cast<int64_t>(encoded_header.size()) + header.uncompressed_page_size;
  return OkStatus();
}

}  // namespace vpcflow::parquet
