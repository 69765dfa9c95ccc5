#include "parquet/file_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/writer.hpp"
#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Random access that records every read.
class CountingObject final : public RandomAccessObject {
 public:
  explicit CountingObject(std::string bytes)
      : target_(NewMemoryRandomAccessObject(std::make_shared<std::string>(std::move(bytes)))) {}
  uint64_t size() const override { return target_->size(); }
  Status ReadAt(uint64_t offset, std::span<char> out) override {
    reads.push_back({offset, out.size()});
    return target_->ReadAt(offset, out);
  }
  std::vector<std::pair<uint64_t, size_t>> reads;

 private:
  RandomAccessObjectPtr target_;
};

// A file of `columns` INT64 columns (a0, a1, ...) with `rows` rows in groups of `group_rows`.
std::string File(size_t columns, int64_t rows, int64_t group_rows) {
  std::vector<WriterColumn> schema;
  for (size_t c = 0; c < columns; ++c) {
    schema.push_back({.name = "a" + std::to_string(c), .type = PhysicalType::kInt64});
  }
  Writer writer(schema,
                {.codec = Codec::kUncompressed, .dictionary = false, .row_group_rows = group_rows});
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < columns; ++c) writer.SetInt(c, r * 100 + static_cast<int64_t>(c));
    EXPECT_OK(writer.EndRow());
  }
  Result<std::string> file = writer.Finish();
  EXPECT_OK(file);
  return *file;
}

TEST(FileReaderTest, ReadsTheFooterAndOnlyTheColumnsAskedFor) {
  CountingObject file(File(4, 1000, 400));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(&file);
  ASSERT_OK(reader);
  const FileMetaData& m = (*reader)->metadata();
  EXPECT_EQ(m.num_rows, 1000);
  EXPECT_EQ(m.row_groups.size(), 3u);
  EXPECT_THAT(m.fields, ElementsAre("a0", "a1", "a2", "a3"));
  // The tail, then the footer.
  ASSERT_EQ(file.reads.size(), 2u);
  EXPECT_EQ(file.reads[0].first, file.size() - 8);
  file.reads.clear();

  const std::vector<size_t> leaves = {2};
  Result<RowGroupReader> group = (*reader)->ReadRowGroup(1, leaves);
  ASSERT_OK(group);
  EXPECT_EQ(group->num_rows(), 400);
  // Column a2 of group 1, with the leading magic (less than 1 MiB before it): one read.
  const ColumnChunkMeta& chunk = m.row_groups[1].columns[2];
  EXPECT_THAT(file.reads,
              ElementsAre(std::pair<uint64_t, size_t>(
                  0, static_cast<size_t>(chunk.start_offset() + chunk.total_compressed_size))));
  Result<size_t> n = group->columns()[0]->Next(10);
  ASSERT_OK(n);
  ASSERT_EQ(*n, 10u);
  EXPECT_EQ(group->columns()[0]->ints()[0], 400 * 100 + 2);
}

TEST(FileReaderTest, ReadsRowGroupsOneAfterAnotherIntoOneReader) {
  CountingObject file(File(2, 1000, 300));
  Result<std::unique_ptr<FileReader>> reader =
      FileReader::Open(&file, {.max_row_group_bytes = 1 << 20});
  ASSERT_OK(reader);
  const std::vector<size_t> leaves = {1};
  RowGroupReader group;
  for (size_t g = 0; g < 4; ++g) {
    // The readers of the previous group give their memory back to its budget before it goes.
    Result<RowGroupReader> next = (*reader)->ReadRowGroup(g, leaves);
    ASSERT_OK(next);
    group = std::move(next).value();
    Result<size_t> n = group.columns()[0]->Next(5);
    ASSERT_OK(n);
    EXPECT_EQ(group.columns()[0]->ints()[0], static_cast<int64_t>(g) * 300 * 100 + 1);
  }
}

TEST(FileReaderTest, ReadsNearbyChunksInOneRequest) {
  CountingObject file(File(3, 100, 100));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(&file);
  ASSERT_OK(reader);
  file.reads.clear();
  const std::vector<size_t> leaves = {2, 0};
  ASSERT_OK((*reader)->ReadRowGroup(0, leaves));
  EXPECT_EQ(file.reads.size(), 1u);  // magic, a0, a1 (a gap) and a2: all within 1 MiB
}

TEST(FileReaderTest, ReadsDistantChunksApart) {
  // Columns of 1.2 MB each: a0 and a2 are more than 1 MiB apart.
  CountingObject file(File(3, 150000, 150000));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(&file);
  ASSERT_OK(reader);
  file.reads.clear();
  const std::vector<size_t> leaves = {0, 2};
  Result<RowGroupReader> group = (*reader)->ReadRowGroup(0, leaves);
  ASSERT_OK(group);
  const ColumnChunkMeta& a0 = (*reader)->metadata().row_groups[0].columns[0];
  const ColumnChunkMeta& a2 = (*reader)->metadata().row_groups[0].columns[2];
  EXPECT_THAT(
      file.reads,
      ElementsAre(std::pair<uint64_t, size_t>(
                      0, static_cast<size_t>(a0.start_offset() + a0.total_compressed_size)),
                  std::pair<uint64_t, size_t>(static_cast<uint64_t>(a2.start_offset()),
                                              static_cast<size_t>(a2.total_compressed_size))));
  for (size_t c = 0; c < 2; ++c) {
    Result<size_t> n = group->columns()[c]->Next(1);
    ASSERT_OK(n);
    EXPECT_EQ(group->columns()[c]->ints()[0], c == 0 ? 0 : 2);
  }
}

TEST(FileReaderTest, RefusesWhatIsNotParquet) {
  for (const std::string& bytes :
       {std::string("PAR1"), std::string("PAR1PAR1PAR"), std::string(100, 'x'),
        std::string("PAR1") + std::string(20, '\0') + "PARE"}) {
    CountingObject file(bytes);
    EXPECT_THAT(FileReader::Open(&file), StatusIs(StatusCode::kDataLoss)) << bytes;
  }
  std::string file_bytes = File(1, 10, 10);
  file_bytes.replace(file_bytes.size() - 4, 4, "PARE");
  CountingObject encrypted(file_bytes);
  EXPECT_THAT(FileReader::Open(&encrypted),
              StatusIs(StatusCode::kDataLoss, HasSubstr("encrypted")));
}

TEST(FileReaderTest, RefusesAFooterLengthPastTheFileOrTheLimit) {
  std::string bytes = File(1, 10, 10);
  std::string too_long = bytes;
  too_long.replace(too_long.size() - 8, 4, std::string("\xff\xff\xff\x7f", 4));
  CountingObject file(too_long);
  EXPECT_THAT(FileReader::Open(&file),
              StatusIs(StatusCode::kDataLoss, HasSubstr("longer than the file")));
  CountingObject ok(bytes);
  EXPECT_THAT(FileReader::Open(&ok, {.max_footer_bytes = 10}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("above the limit")));
}

TEST(FileReaderTest, RefusesAWrongLeadingMagicWhenReadingData) {
  std::string bytes = File(1, 10, 10);
  bytes.replace(0, 4, "XXXX");
  CountingObject file(bytes);
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(&file);
  ASSERT_OK(reader);
  const std::vector<size_t> leaves = {0};
  EXPECT_THAT((*reader)->ReadRowGroup(0, leaves),
              StatusIs(StatusCode::kDataLoss, HasSubstr("does not start with PAR1")));
}

TEST(FileReaderTest, RefusesMoreRowsThanTheFileCouldHold) {
  CountingObject file(File(1, 1000, 1000));
  EXPECT_THAT(FileReader::Open(&file, {.max_rows_per_byte = 0}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("claims more than 0 rows")));
  EXPECT_OK(FileReader::Open(&file, {.max_rows_per_byte = 1}));
}

TEST(FileReaderTest, RefusesChunksOutsideTheDataAndBeyondTheBudget) {
  CountingObject file(File(2, 1000, 1000));
  Result<std::unique_ptr<FileReader>> reader =
      FileReader::Open(&file, {.max_row_group_bytes = 100});
  ASSERT_OK(reader);
  const std::vector<size_t> leaves = {0};
  EXPECT_THAT((*reader)->ReadRowGroup(0, leaves),
              StatusIs(StatusCode::kDataLoss, HasSubstr("memory limit")));

  // A footer whose chunk points into the footer itself.
  std::vector<WriterColumn> schema = {{.name = "a", .type = PhysicalType::kInt64}};
  RowGroupMeta group;
  group.num_rows = 1;
  ColumnChunkMeta chunk;
  chunk.type = PhysicalType::kInt64;
  chunk.data_page_offset = 4;
  chunk.total_compressed_size = 1000;
  group.columns = {chunk};
  const std::string footer = EncodeFileMetaData(schema, {&group, 1}, "");
  std::string bytes = "PAR1" + footer;
  const uint32_t n = static_cast<uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  bytes += "PAR1";
  CountingObject bad(bytes);
  Result<std::unique_ptr<FileReader>> bad_reader = FileReader::Open(&bad);
  ASSERT_OK(bad_reader);
  EXPECT_THAT((*bad_reader)->ReadRowGroup(0, leaves),
              StatusIs(StatusCode::kDataLoss, HasSubstr("outside the file's data")));
}

}  // namespace
}  // namespace vpcflow::parquet
