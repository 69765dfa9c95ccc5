// parquet_pages DIR: decompresses, on one thread, every page of the columns the digest reads in
// every *.parquet file under DIR, and prints the seconds that took (reading the files from the
// page cache included, decoding the values not): the Parquet counterpart of `igzip -dc` for
// scripts/bench.sh.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "flowlog/format.hpp"
#include "parquet/codec.hpp"
#include "parquet/file_reader.hpp"
#include "parquet/metadata.hpp"

namespace {

using vpcflow::Field;
using vpcflow::FieldFromName;
using vpcflow::Result;
using vpcflow::parquet::Codec;
using vpcflow::parquet::ColumnChunkMeta;
using vpcflow::parquet::PageHeader;

constexpr Field kNeeded[] = {
    Field::kAccountId, Field::kInterfaceId, Field::kSrcAddr,  Field::kDstAddr, Field::kSrcPort,
    Field::kDstPort,   Field::kProtocol,    Field::kPackets,  Field::kBytes,   Field::kStart,
    Field::kEnd,       Field::kAction,      Field::kLogStatus};

bool Needed(const std::string& name) {
  const Field f = FieldFromName(name);
  for (Field n : kNeeded) {
    if (f == n) return true;
  }
  return false;
}

// Decompresses the pages of one chunk; returns the decompressed bytes, or -1 on error.
int64_t InflateChunk(const std::string& file, const ColumnChunkMeta& m, std::vector<uint8_t>& out) {
  const auto* data = reinterpret_cast<const uint8_t*>(file.data());
  size_t pos = static_cast<size_t>(m.start_offset());
  const size_t end = pos + static_cast<size_t>(m.total_compressed_size);
  if (end > file.size()) return -1;
  int64_t total = 0;
  while (pos < end) {
    size_t consumed = 0;
    Result<PageHeader> h = vpcflow::parquet::ParsePageHeader({data + pos, end - pos}, &consumed);
    if (!h.ok()) return -1;
    pos += consumed;
    const auto stored = static_cast<size_t>(h->compressed_page_size);
    size_t levels = 0;
    bool compressed = m.codec != Codec::kUncompressed;
    if (h->data_page_v2) {
      levels = static_cast<size_t>(h->data_page_v2->definition_levels_byte_length +
                                   h->data_page_v2->repetition_levels_byte_length);
      compressed = compressed && h->data_page_v2->is_compressed;
    }
    const size_t size = static_cast<size_t>(h->uncompressed_page_size) - levels;
    if (compressed) {
      out.resize(size);
      if (!vpcflow::parquet::Decompress(m.codec, {data + pos + levels, stored - levels}, out)
               .ok()) {
        return -1;
      }
    }
    total += static_cast<int64_t>(size + levels);
    pos += stored;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parquet_pages DIR\n");
    return 2;
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
    if (e.is_regular_file() && e.path().extension() == ".parquet") paths.push_back(e.path());
  }
  const auto t0 = std::chrono::steady_clock::now();
  int64_t bytes = 0;
  std::vector<uint8_t> out;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    auto file = std::make_shared<std::string>(std::filesystem::file_size(path), '\0');
    in.read(file->data(), static_cast<std::streamsize>(file->size()));

    vpcflow::RandomAccessObjectPtr object = vpcflow::NewMemoryRandomAccessObject(file);
    Result<std::unique_ptr<vpcflow::parquet::FileReader>> reader =
        vpcflow::parquet::FileReader::Open(object.get());
    if (!reader.ok()) {
      std::fprintf(stderr, "parquet_pages: %s: %s\n", path.c_str(),
                   reader.status().ToString().c_str());
      return 1;
    }
    const vpcflow::parquet::FileMetaData& m = (*reader)->metadata();
    for (const vpcflow::parquet::RowGroupMeta& g : m.row_groups) {
      for (size_t i = 0; i < m.leaves.size(); ++i) {
        if (!Needed(m.fields[m.leaves[i].field])) continue;
        const int64_t n = InflateChunk(*file, g.columns[i], out);
        if (n < 0) {
          std::fprintf(stderr, "parquet_pages: %s: a corrupt chunk\n", path.c_str());
          return 1;
        }
        bytes += n;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.3f %zu %lld\n", seconds, paths.size(), static_cast<long long>(bytes));
  return 0;
}
