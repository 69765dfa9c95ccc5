#pragma once
/// A small Parquet writer, for the sample corpus (`vpcflow-digest generate --format parquet`),
/// the tests and the fuzzer's seeds: a flat schema of OPTIONAL INT32, INT64 and BYTE_ARRAY
/// columns; data pages v1 or v2; dictionary encoding with a fall-back to plain values in the
/// middle of a chunk once the dictionary grows past a size (as parquet-mr does), or plain values
/// (PLAIN or a DELTA encoding); one codec per file. The whole file is built in memory. One thread
/// at a time.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/metadata.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

struct WriterOptions {
  Codec codec = Codec::kGzip;  ///< UNCOMPRESSED, GZIP, SNAPPY or ZSTD
  bool data_page_v2 = false;
  /// Dictionary-encode every column; once a chunk's dictionary holds more than
  /// `dictionary_max_bytes` (as PLAIN values), its later pages are written with `plain_encoding`.
  bool dictionary = true;
  size_t dictionary_max_bytes = 1 << 20;
  /// Values of pages not dictionary-encoded: PLAIN, DELTA_BINARY_PACKED (for INT columns;
  /// BYTE_ARRAY ones then use PLAIN), DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY (for BYTE_ARRAY
  /// columns; INT ones then use PLAIN).
  Encoding plain_encoding = Encoding::kPlain;
  size_t page_rows = 20000;
  int64_t row_group_rows = 1 << 20;
  std::string created_by = "vpcflow";
};

class Writer {
 public:
  /// Columns of type INT32, INT64 or BYTE_ARRAY.
  explicit Writer(std::vector<WriterColumn> columns, WriterOptions options = {});

  /// The value of column `c` in the current row (columns left unset are null).
  void SetInt(size_t c, int64_t value);
  void SetBytes(size_t c, std::string_view value);
  /// Ends the row; every `row_group_rows` rows a row group is encoded.
  Status EndRow();
  /// Encodes the last row group and the footer; returns the file. The writer is then spent.
  Result<std::string> Finish();

  int64_t rows() const { return rows_total_; }

 private:
  struct Column {
    std::vector<uint8_t> present;
    std::vector<int64_t> ints;   // INT columns: one per present value
    std::vector<uint32_t> ends;  // BYTE_ARRAY columns: end offsets in `bytes`
    std::string bytes;
    bool set = false;  // in the current row
  };
  Status FlushRowGroup();
  Status WriteChunk(size_t c, ColumnChunkMeta* meta);
  Status WritePage(size_t c, size_t first_row, size_t rows, size_t first_value, size_t values,
                   const std::vector<uint32_t>* indices, int index_width, std::string* out,
                   Encoding* used, int64_t* uncompressed);

  const std::vector<WriterColumn> schema_;
  const WriterOptions options_;
  std::vector<Column> columns_;
  std::vector<RowGroupMeta> row_groups_;
  std::string file_;
  int64_t rows_in_group_ = 0;
  int64_t rows_total_ = 0;
};

}  // namespace vpcflow::parquet
