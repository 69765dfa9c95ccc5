#pragma once
/// The parts of parquet.thrift a flat reader needs: the footer (FileMetaData, with the schema
/// flattened to leaf columns) and page headers, decoded with CompactReader (unknown fields are
/// skipped), and their encoding for our own writer. Pure, thread-safe.
///
/// Parsing checks what the rest of the reader relies on, so it can use the values without
/// re-checking: the schema tree is well formed (children counts add up), every row group has one
/// chunk per leaf column with the leaf's type, sizes and counts are not negative, page sizes fit
/// in int32. Everything else (offsets against the file, sizes against limits) is checked where it
/// is used. Every failure is DataLoss.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
/// "INT32", "BYTE_ARRAY", ... ("type 42" for unknown values).
std::string PhysicalTypeName(PhysicalType type);

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};
std::string EncodingName(Encoding encoding);

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};
std::string CodecName(Codec codec);

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

/// A leaf (primitive) column of the schema, in file order.
struct LeafColumn {
  /// Index into FileMetaData::fields of the top-level field this leaf is (or lies under).
  uint32_t field = 0;
  /// Below a group (a nested field), not a top-level primitive.
  bool nested = false;
  PhysicalType type = PhysicalType::kInt32;
  int32_t type_length = 0;  ///< FIXED_LEN_BYTE_ARRAY width
  int max_definition_level = 0;
  int max_repetition_level = 0;
  /// Declared unsigned (ConvertedType UINT_* or LogicalType INTEGER(isSigned=false)).
  bool is_unsigned = false;
};

struct ColumnChunkMeta {
  PhysicalType type = PhysicalType::kInt32;
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t total_uncompressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  /// Set when the chunk lives in another file (not supported by the reader).
  bool external = false;
  std::vector<Encoding> encodings;  ///< every encoding the chunk's pages use
  /// Where the chunk's pages start: the dictionary page when there is one before the data.
  int64_t start_offset() const {
    return dictionary_page_offset && *dictionary_page_offset > 0 &&
                   *dictionary_page_offset < data_page_offset
               ? *dictionary_page_offset
               : data_page_offset;
  }
};

struct RowGroupMeta {
  int64_t num_rows = 0;
  std::vector<ColumnChunkMeta> columns;  ///< one per leaf, in leaf order
};

struct FileMetaData {
  int32_t version = 0;
  int64_t num_rows = 0;
  std::vector<std::string> fields;  ///< top-level field names, in schema order
  std::vector<LeafColumn> leaves;
  std::vector<RowGroupMeta> row_groups;
  std::string created_by;
};

/// Parses the footer's FileMetaData (the bytes between the data and the length + "PAR1").
Result<FileMetaData> ParseFileMetaData(std::span<const uint8_t> bytes);

struct DataPageHeader {
  int32_t num_values = 0;  ///< nulls included
  Encoding encoding = Encoding::kPlain;
  Encoding definition_level_encoding = Encoding::kRle;
  Encoding repetition_level_encoding = Encoding::kRle;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  Encoding encoding = Encoding::kPlain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  /// The one matching `type` is set (checked); index pages have none.
  std::optional<DataPageHeader> data_page;
  std::optional<DataPageHeaderV2> data_page_v2;
  std::optional<DictionaryPageHeader> dictionary_page;
};

/// Parses a page header at the start of `bytes`; `*consumed` is set to the header's length.
Result<PageHeader> ParsePageHeader(std::span<const uint8_t> bytes, size_t* consumed);

/// The encoders of the writer (the fields the parsers read).
std::string EncodePageHeader(const PageHeader& header);

/// A column of the writer's flat schema: a top-level OPTIONAL field.
struct WriterColumn {
  std::string name;
  PhysicalType type = PhysicalType::kByteArray;
  bool utf8 = false;  ///< annotate BYTE_ARRAY as a UTF-8 string
};
/// The footer of a file of `columns` (each row group's chunks in the same order).
std::string EncodeFileMetaData(std::span<const WriterColumn> columns,
                               std::span<const RowGroupMeta> row_groups,
                               std::string_view created_by);

}  // namespace vpcflow::parquet
