#pragma once
/// A Parquet file over random access: the footer, then the chunks of the columns asked for, one
/// row group at a time. One thread at a time.
///
/// Reads: the footer needs the last 8 bytes and the footer itself (callers open the object with
/// a tail hint of kFooterReadHint so both usually come in one request); a row group's needed
/// chunks (and the leading magic, with the first) are read in as few requests as their
/// positions allow: ranges closer than kCoalesceGapBytes are read as one.
///
/// Limits, so that a hostile file cannot take unbounded memory or time: the footer is at most
/// `max_footer_bytes`; a row group's needed chunks plus the pages and dictionaries decoded from
/// them at most `max_row_group_bytes`; the rows of the file at most `max_rows_per_byte` times
/// the file's size. Every failure that comes from the file's bytes is DataLoss; the object's
/// own read errors are returned as they are.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parquet/column_reader.hpp"
#include "parquet/metadata.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

/// Bytes worth reading with the open, so that the footer needs no second request.
inline constexpr uint64_t kFooterReadHint = uint64_t{64} * 1024;
/// Chunks separated by less than this are read in one request (the gap is read and dropped).
inline constexpr uint64_t kCoalesceGapBytes = 1 << 20;

struct ReaderLimits {
  uint64_t max_footer_bytes = 16 << 20;
  uint64_t max_row_group_bytes = uint64_t{512} << 20;
  uint64_t max_rows_per_byte = 1024;
};

/// The readers of one row group's needed columns; owns the bytes they decode.
class RowGroupReader {
 public:
  RowGroupReader() = default;
  RowGroupReader(RowGroupReader&&) noexcept = default;
  /// Destroys the readers before the budget and the bytes they use.
  RowGroupReader& operator=(RowGroupReader&& other) noexcept {
    columns_.clear();
    num_rows_ = other.num_rows_;
    budget_ = std::move(other.budget_);
    ranges_ = std::move(other.ranges_);
    columns_ = std::move(other.columns_);
    return *this;
  }

  int64_t num_rows() const { return num_rows_; }
  /// One reader per requested leaf, in the order asked for.
  std::vector<std::unique_ptr<ColumnChunkReader>>& columns() { return columns_; }

 private:
  friend class FileReader;
  int64_t num_rows_ = 0;
  std::unique_ptr<ByteBudget> budget_;  // first: the readers give back to it when destroyed
  std::vector<std::unique_ptr<uint8_t[]>> ranges_;  // not zero-filled: read over at once
  std::vector<std::unique_ptr<ColumnChunkReader>> columns_;
};

class FileReader {
 public:
  /// Reads and checks the footer of `file` (borrowed; must outlive the reader). DataLoss when
  /// the file is not Parquet (too small, wrong magic, encrypted), the footer is corrupt or
  /// passes a limit, or the row count passes the limit.
  static Result<std::unique_ptr<FileReader>> Open(RandomAccessObject* file,
                                                  const ReaderLimits& limits = {});

  const FileMetaData& metadata() const { return metadata_; }

  /// Reads row group `index`'s chunks of `leaves` (leaf indices, any order, each at most once)
  /// and makes a reader for each. DataLoss when a chunk lies outside the file's data, the bytes
  /// pass the limit, or a column cannot be decoded; the object's read errors as they are.
  Result<RowGroupReader> ReadRowGroup(size_t index, std::span<const size_t> leaves);

 private:
  FileReader(RandomAccessObject* file, const ReaderLimits& limits, FileMetaData metadata,
             uint64_t data_end);

  RandomAccessObject* file_;
  ReaderLimits limits_;
  FileMetaData metadata_;
  uint64_t data_end_;  // where the footer starts: no chunk may reach past it
  bool magic_checked_ = false;
};

}  // namespace vpcflow::parquet
