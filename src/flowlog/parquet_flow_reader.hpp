#pragma once
/// Flow-log records from a Parquet object (FLOWLOGS.md, "Parquet delivery"), judged by the rules
/// of the text path so that an object and its text twin give the same records and outcomes.
///
/// Columns are found by name (field names with '_' for '-', as FieldFromName reads them; the
/// first column of a name wins), in any order and subset; unknown columns are ignored and never
/// read. Values take the file's types: INT32 and INT64 (widened; unsigned when declared so),
/// BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (text, parsed as a token of a line would be). NULL, "-"
/// and "" are all "absent", as '-' is in text. A row is one "line": every row gets one
/// LineOutcome, never kHeader, kBlank or kBadTokenCount (a Parquet object has no header line, so
/// its counts are those of its text twin less the header). Two things only Parquet can hold:
/// an account-id or interface-id with a space or newline in it (kBadValue: the digest's lines
/// could not carry it), and a number where the text path wants a word (an INT action or address:
/// kBadValue / kBadAddress; an INT account-id is written in decimal).
///
/// Reading goes one row group at a time (only the needed columns' chunks, see
/// parquet/file_reader.hpp for the limits). One thread at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "flowlog/line_parser.hpp"
#include "parquet/file_reader.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct ParquetReadOptions {
  parquet::ReaderLimits limits{};
  /// A source without random access has the whole object read into memory: at most this much.
  uint64_t max_read_bytes = uint64_t{512} << 20;
};

class ParquetFlowReader {
 public:
  /// Rows judged by one Next() at most.
  static constexpr size_t kMaxBatch = parquet::ColumnChunkReader::kMaxRun;

  /// Opens `key` of `source` (with random access, or read whole when the source has none) and
  /// reads its footer and schema. Returns DataLoss for anything wrong with the object's bytes,
  /// a needed column the reader cannot take (nested, repeated, of another type, compressed with
  /// a codec it lacks) or an object too large to read whole; the source's errors as they are.
  static Result<std::unique_ptr<ParquetFlowReader>> Open(ObjectSource& source, std::string_view key,
                                                         const ParquetReadOptions& options = {});
  /// The same over an object already open.
  static Result<std::unique_ptr<ParquetFlowReader>> Open(RandomAccessObjectPtr file,
                                                         const ParquetReadOptions& options = {});
  ~ParquetFlowReader();

  /// Judges the next rows, at most min(records.size(), outcomes.size(), kMaxBatch): sets
  /// outcomes[i] for each, and records[i] when it is kUsed (views valid until the next call).
  /// Returns how many, 0 at the end. DataLoss when the object turns out corrupt (a column with
  /// fewer or more values than its row group's rows, a bad page, ...): the rows returned before
  /// must then be dropped with the object. The source's read errors as they are.
  Result<size_t> Next(std::span<FlowRecord> records, std::span<LineOutcome> outcomes);

  /// Decompressed bytes of the pages read so far (the counterpart of a text object's size).
  uint64_t decompressed_bytes() const;

  /// Frees what the readers of this thread keep for the next ones (their run buffers): a thread
  /// done reading Parquet objects calls it.
  static void ReleaseThreadBuffers() { parquet::ColumnChunkReader::ReleaseThreadRunBuffers(); }

 private:
  struct Column;
  ParquetFlowReader(RandomAccessObjectPtr file, std::unique_ptr<parquet::FileReader> reader,
                    std::vector<Column> columns);
  Status NextRowGroup(bool* end);
  Status FinishRowGroup();
  struct DictionaryCache;
  // One of the cached fields of a batch's rows, when its run is dictionary-encoded (with a
  // dictionary small enough, ColumnChunkReader::LeaveDictionaryStringsUnset): each value's
  // index, the dictionary's values and the verdicts so far. Else `cache` is null and the run is
  // judged value by value.
  struct CachedLane {
    const uint8_t* present = nullptr;
    const uint32_t* indices = nullptr;
    const parquet::ByteView* dictionary = nullptr;
    const char* dictionary_end = nullptr;  // its values' bytes may be read up to here
    DictionaryCache* cache = nullptr;
  };
  enum CacheSlot {
    kSrcCache,
    kDstCache,
    kAccountCache,
    kInterfaceCache,
    kStatusCache,
    kActionCache,
    kCacheSlots
  };
  CachedLane CachedLaneOf(CacheSlot which, Field field);
  void Judge(size_t n, std::span<FlowRecord> records, std::span<LineOutcome> outcomes);

  RandomAccessObjectPtr file_;
  std::unique_ptr<parquet::FileReader> reader_;
  std::vector<Column> columns_;                     // the needed fields present in the file
  int slot_[static_cast<size_t>(Field::kUnknown)];  // by Field: index into columns_ or -1
  parquet::RowGroupReader group_;
  size_t next_group_ = 0;
  uint64_t rows_left_ = 0;  // in the current row group
  bool in_group_ = false;
  uint64_t done_bytes_ = 0;  // decompressed bytes of finished row groups
  std::string text_;         // INT account/interface ids written as text, for this batch
  // Per dictionary entry of the current row group's srcaddr, dstaddr, account-id,
  // interface-id, log-status and action: whether its text was judged yet and how (and the
  // address it holds), so that a value a dictionary-encoded run repeats is judged once.
  struct DictionaryCache {
    std::vector<uint8_t> state;      // by dictionary index: 0 not judged, else the verdict
    std::vector<IpAddress> address;  // srcaddr, dstaddr
  };
  DictionaryCache caches_[kCacheSlots];
};

}  // namespace vpcflow
