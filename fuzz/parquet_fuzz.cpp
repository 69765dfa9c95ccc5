// libFuzzer target: an object's bytes as the digest reads a Parquet object. The flow-log reader
// opens it and judges every row; any outcome is fine, as long as there is no crash, no
// sanitizer report, no hang and no large allocation. Every leaf column is also decoded on its
// own (not only the flow-log ones), so mutations of column names do not hide the decoders.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "flowlog/parquet_flow_reader.hpp"
#include "parquet/file_reader.hpp"

namespace {

// Small limits: an input of a few KB must not make the fuzzer allocate or loop much.
vpcflow::parquet::ReaderLimits Limits() {
  return {.max_footer_bytes = 1 << 20, .max_row_group_bytes = 32 << 20, .max_rows_per_byte = 64};
}

void ReadRows(const std::shared_ptr<const std::string>& bytes) {
  auto reader = vpcflow::ParquetFlowReader::Open(vpcflow::NewMemoryRandomAccessObject(bytes),
                                                 {.limits = Limits()});
  if (!reader.ok()) return;
  std::vector<vpcflow::FlowRecord> records(vpcflow::ParquetFlowReader::kMaxBatch);
  std::vector<vpcflow::LineOutcome> outcomes(vpcflow::ParquetFlowReader::kMaxBatch);
  for (;;) {
    auto n = (*reader)->Next(records, outcomes);
    if (!n.ok() || *n == 0) return;
    if (*n > records.size()) std::abort();
  }
}

void ReadColumns(const std::shared_ptr<const std::string>& bytes) {
  vpcflow::RandomAccessObjectPtr file = vpcflow::NewMemoryRandomAccessObject(bytes);
  auto reader = vpcflow::parquet::FileReader::Open(file.get(), Limits());
  if (!reader.ok()) return;
  const auto& metadata = (*reader)->metadata();
  std::vector<size_t> leaves(metadata.leaves.size());
  std::iota(leaves.begin(), leaves.end(), size_t{0});
  for (size_t g = 0; g < metadata.row_groups.size(); ++g) {
    // Columns one at a time: one the reader refuses must not hide the others.
    for (size_t leaf : leaves) {
      auto group = (*reader)->ReadRowGroup(g, {&leaf, 1});
      if (!group.ok()) continue;
      for (;;) {
        auto n = group->columns()[0]->Next(vpcflow::parquet::ColumnChunkReader::kMaxRun);
        if (!n.ok() || *n == 0) break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::string>(reinterpret_cast<const char*>(data), size);
  ReadRows(bytes);
  ReadColumns(bytes);
  return 0;
}
