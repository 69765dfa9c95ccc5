#pragma once
/// A partial digest: the aggregate of some objects' kept records as a run sorted by canonical
/// key, in a file of its own (DESIGN.md, "Partial digests"). The same container also carries the
/// ordered runs of the final external sort (kind kOrdered). Used by the spill path of RunDigest,
/// by src/jobs (a shard's partial in the digest Storage) and by the merge.
///
/// Format, version 1, all integers little-endian:
///
///     header   "VPCFPART" u32 version (1) u32 kind (1 keyed, 2 ordered)
///     block*   u32 tag (1) u32 stored_bytes u32 raw_bytes u32 rows u32 crc32c(stored) u32 codec
///              stored bytes (codec 0: as they are, 1: zstd frame of raw_bytes bytes)
///     trailer  u32 tag (2) u32 bytes u32 0 u32 crc32c(trailer) u64 rows u64 blocks,
///              then `bytes - 16` bytes of the run's summary (DigestSummary as JSON)
///
/// A keyed row (kind 1): u8 flags (bit 7: new owner follows; bits 0-3 the key's flags), when a
/// new owner follows varint length + bytes of the account, then of the interface; then srcaddr
/// and dstaddr (4 bytes when the flag says IPv4, else 16), srcport u16, dstport u16, protocol
/// u8, varints packets, bytes, flows, zigzag start, zigzag (end - start). Keys are canonical
/// across processes (the owner is its two strings, never an interned id) and strictly
/// increasing in CompareRowKeys order. An ordered row (kind 2): varint bytes, varint flows,
/// zigzag start, zigzag (end - start), varint line length, the flowlog line (with its '\n');
/// strictly increasing in OutputOrderLess (bytes descending, then the line's bytes).
///
/// Readers check the checksum of every block and of the trailer before using them, bound every
/// size (kMaxPartialBlockBytes), check the order of the rows and need the trailer: a truncated,
/// altered or disordered run is DataLoss, never wrong rows or a crash. A newer version is
/// FailedPrecondition. Writers and readers are used by one thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "digest/digest_table.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

inline constexpr std::string_view kPartialMagic = "VPCFPART";
inline constexpr uint32_t kPartialVersion = 1;
/// The largest raw or stored block a reader accepts, and the largest trailer.
inline constexpr uint32_t kMaxPartialBlockBytes = 16u << 20;

enum class PartialKind : uint32_t {
  kKeyed = 1,    ///< rows by canonical key: a partial digest
  kOrdered = 2,  ///< rows in the final order (bytes descending, then line): the external sort
};

/// One row of a keyed run: the key (its owner field unused, 0) with the owner's two strings.
struct KeyedRow {
  std::string_view account;
  std::string_view interface;
  DigestKey key;
  DigestValue value;
};

/// The canonical key order: account, then interface (bytes), then the key's 48 bytes with the
/// owner field zero. <0, 0, >0.
int CompareRowKeys(const KeyedRow& a, const KeyedRow& b);

/// One row of an ordered run.
struct OrderedRow {
  uint64_t bytes = 0;
  uint64_t flows = 0;
  int64_t start = 0;  ///< as the row's value (the line's text could be read as milliseconds)
  int64_t end = 0;
  std::string_view line;  ///< the flowlog line, with its '\n'
};

/// True when `a` comes before `b` in the digest's output order: bytes descending, then the
/// line's bytes ascending.
inline bool OutputOrderLess(const OrderedRow& a, const OrderedRow& b) {
  if (a.bytes != b.bytes) return a.bytes > b.bytes;
  return a.line < b.line;
}

struct PartialWriterOptions {
  /// zstd level for blocks; 0 stores them uncompressed.
  int zstd_level = 1;
  /// Raw bytes buffered before a block is written.
  uint32_t block_bytes = 256u << 10;
};

/// Writes one run to a sink it does not own. Rows must come in the order of the kind (checked:
/// FailedPrecondition otherwise). Returns the sink's error.
class PartialWriter {
 public:
  PartialWriter(ByteSink& sink, PartialKind kind, PartialWriterOptions options = {});
  ~PartialWriter();
  PartialWriter(const PartialWriter&) = delete;
  PartialWriter& operator=(const PartialWriter&) = delete;

  [[nodiscard]] Status Add(const KeyedRow& row);
  [[nodiscard]] Status Add(const OrderedRow& row);
  /// Writes the last block and the trailer with `summary` (does not Close the sink).
  [[nodiscard]] Status Finish(const DigestSummary& summary);

  uint64_t rows() const { return rows_; }
  /// Bytes written to the sink so far.
  uint64_t bytes_written() const { return written_; }

 private:
  Status FlushBlock();
  Status Write(std::string_view bytes);

  ByteSink& sink_;
  const PartialKind kind_;
  const PartialWriterOptions options_;
  Status status_;
  bool started_ = false;
  std::string raw_;
  std::string stored_;
  std::string last_account_;
  std::string last_interface_;
  bool owner_in_block_ = false;
  KeyedRow last_keyed_{};
  std::string last_line_;
  uint64_t last_bytes_ = 0;
  uint32_t block_rows_ = 0;
  uint64_t rows_ = 0;
  uint64_t blocks_ = 0;
  uint64_t written_ = 0;
};

/// Reads one run from a reader it owns.
class PartialReader {
 public:
  /// Reads and checks the header: DataLoss when it is not a run, FailedPrecondition for a newer
  /// version or another kind than `kind`, the reader's error when reading fails.
  static Result<std::unique_ptr<PartialReader>> Open(ObjectReaderPtr reader, PartialKind kind);
  ~PartialReader();

  /// The next row: true and `*row` (views valid until the next call), or false at the end
  /// (after the trailer was checked). DataLoss for a corrupt run; the reader's own error.
  [[nodiscard]] Result<bool> Next(KeyedRow* row);
  [[nodiscard]] Result<bool> Next(OrderedRow* row);
  /// The summary of the trailer, valid after Next returned false.
  const DigestSummary& summary() const { return summary_; }
  uint64_t rows() const { return rows_; }

 private:
  explicit PartialReader(ObjectReaderPtr reader, PartialKind kind);
  Status ReadExactly(char* out, size_t n, bool* eof);
  Result<bool> NextBlock();

  ObjectReaderPtr reader_;
  PartialKind kind_;
  std::string in_;  // read buffer
  size_t in_pos_ = 0;
  std::string stored_;
  std::string raw_;
  size_t pos_ = 0;
  uint32_t block_rows_left_ = 0;
  bool done_ = false;
  std::string account_;
  std::string interface_;
  bool owner_in_block_ = false;
  KeyedRow last_keyed_{};
  std::string last_account_;
  std::string last_interface_;
  bool have_last_ = false;
  OrderedRow last_ordered_{};
  std::string last_line_;
  uint64_t rows_ = 0;
  uint64_t blocks_ = 0;
  DigestSummary summary_;
};

/// The summary as the trailer stores it, and back. SummaryFromJson is DataLoss for text that is
/// not such a summary.
std::string SummaryToTrailerJson(const DigestSummary& summary);
Result<DigestSummary> SummaryFromTrailerJson(std::string_view json);

/// Adds the counts of `b` (a part of the same digest) to `a`: objects, bytes, lines, keys (as a
/// plain sum), problems (merged by key); seconds are added too.
void AddSummary(DigestSummary& a, const DigestSummary& b);

}  // namespace vpcflow
