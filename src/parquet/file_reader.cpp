// File layout: "PAR1", column chunks, FileMetaData, its 4-byte length, "PAR1" (parquet-format
// README.md, "File format").
#include "parquet/file_reader.hpp"

#include <algorithm>
#include <cstring>

#include "common/little_endian.hpp"

namespace vpcflow::parquet {
namespace {

constexpr char kMagic[] = "PAR1";
constexpr char kEncryptedMagic[] = "PARE";
constexpr uint64_t kMagicBytes = 4;
constexpr uint64_t kTailBytes = 8;  // the footer length and the magic

struct Range {
  uint64_t begin;
  uint64_t end;
};

}  // namespace

FileReader::FileReader(RandomAccessObject* file, const ReaderLimits& limits, FileMetaData metadata,
                       uint64_t data_end)
    : file_(file), limits_(limits), metadata_(std::move(metadata)), data_end_(data_end) {}

Result<std::unique_ptr<FileReader>> FileReader::Open(RandomAccessObject* file,
                                                     const ReaderLimits& limits) {
  const uint64_t size = file->size();
  if (size < kMagicBytes + kTailBytes) {
    return DataLossError("not a Parquet file: " + std::to_string(size) + " bytes");
  }
  char tail[kTailBytes];
  VPCFLOW_RETURN_IF_ERROR(file->ReadAt(size - kTailBytes, tail));
  if (std::memcmp(tail + 4, kEncryptedMagic, 4) == 0) {
    return DataLossError("encrypted Parquet (PARE) is not supported");
  }
  if (std::memcmp(tail + 4, kMagic, 4) != 0) {
    return DataLossError("not a Parquet file: it does not end in PAR1");
  }
  const uint32_t footer_size = LoadLittleEndian32(tail);
  if (footer_size > size - kMagicBytes - kTailBytes) {
    return DataLossError("Parquet footer of " + std::to_string(footer_size) +
                         " bytes is longer than the file allows");
  }
  if (footer_size > limits.max_footer_bytes) {
    return DataLossError("Parquet footer of " + std::to_string(footer_size) +
                         " bytes is above the limit of " + std::to_string(limits.max_footer_bytes));
  }
  const uint64_t data_end = size - kTailBytes - footer_size;
  std::vector<uint8_t> footer(footer_size);
  VPCFLOW_RETURN_IF_ERROR(file->ReadAt(
      data_end, std::span<char>(reinterpret_cast<char*>(footer.data()), footer.size())));
  Result<FileMetaData> metadata = ParseFileMetaData(footer);
  if (!metadata.ok()) return DataLossError("Parquet footer: " + metadata.status().message());

  uint64_t rows = 0;
  uint64_t max_rows;
  if (__builtin_mul_overflow(size, limits.max_rows_per_byte, &max_rows)) max_rows = UINT64_MAX;
  for (const RowGroupMeta& g : metadata->row_groups) {
    rows += static_cast<uint64_t>(g.num_rows);  // each below 2^63: the sum cannot wrap first
    if (rows > max_rows) {
      return DataLossError("Parquet file of " + std::to_string(size) + " bytes claims more than " +
                           std::to_string(max_rows) + " rows");
    }
  }
  return std::unique_ptr<FileReader>(
      new FileReader(file, limits, std::move(metadata).value(), data_end));
}

Result<RowGroupReader> FileReader::ReadRowGroup(size_t index, std::span<const size_t> leaves) {
  const RowGroupMeta& group = metadata_.row_groups.at(index);
  RowGroupReader out;
  out.num_rows_ = group.num_rows;
  out.budget_ = std::make_unique<ByteBudget>(limits_.max_row_group_bytes);

  std::vector<Range> chunks;
  for (size_t leaf : leaves) {
    const ColumnChunkMeta& m = group.columns.at(leaf);
    const std::string& name = metadata_.fields[metadata_.leaves[leaf].field];
    if (m.external) return DataLossError("column '" + name + "': its chunk is in another file");
    const auto begin = static_cast<uint64_t>(m.start_offset());
    const auto length = static_cast<uint64_t>(m.total_compressed_size);
    if (begin < kMagicBytes || begin > data_end_ || length > data_end_ - begin) {
      return DataLossError("column '" + name + "': its chunk lies outside the file's data");
    }
    chunks.push_back({begin, begin + length});
  }
  std::vector<Range> reads = chunks;
  if (!magic_checked_) reads.push_back({0, kMagicBytes});
  std::sort(reads.begin(), reads.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::vector<Range> merged;
  for (const Range& r : reads) {
    if (!merged.empty() && r.begin <= merged.back().end + kCoalesceGapBytes) {
      merged.back().end = std::max(merged.back().end, r.end);
    } else {
      merged.push_back(r);
    }
  }
  for (const Range& r : merged) {
    VPCFLOW_RETURN_IF_ERROR(out.budget_->Take(r.end - r.begin, "the column chunks"));
    uint8_t* bytes = out.ranges_.emplace_back(new uint8_t[r.end - r.begin]).get();
    VPCFLOW_RETURN_IF_ERROR(
        file_->ReadAt(r.begin, std::span<char>(reinterpret_cast<char*>(bytes), r.end - r.begin)));
  }
  if (!magic_checked_) {
    if (std::memcmp(out.ranges_.front().get(), kMagic, kMagicBytes) != 0) {
      return DataLossError("not a Parquet file: it does not start with PAR1");
    }
    magic_checked_ = true;
  }

  for (size_t i = 0; i < leaves.size(); ++i) {
    const Range& chunk = chunks[i];
    const auto in = std::find_if(merged.begin(), merged.end(), [&](const Range& r) {
      return r.begin <= chunk.begin && chunk.end <= r.end;
    });
    const uint8_t* bytes = out.ranges_[static_cast<size_t>(in - merged.begin())].get();
    const std::span<const uint8_t> span(bytes + (chunk.begin - in->begin), chunk.end - chunk.begin);
    const LeafColumn& leaf = metadata_.leaves[leaves[i]];
    VPCFLOW_ASSIGN_OR_RETURN(
        auto reader, ColumnChunkReader::Make(metadata_.fields[leaf.field], leaf,
                                             group.columns[leaves[i]], span, out.budget_.get()));
    out.columns_.push_back(std::move(reader));
  }
  return out;
}

}  // namespace vpcflow::parquet
