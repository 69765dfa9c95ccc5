#include "parquet/writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "parquet/file_reader.hpp"
#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

TEST(WriterTest, WritesAFileWithItsSchemaRowGroupsAndEncodings) {
  Writer writer(
      {{.name = "srcaddr", .type = PhysicalType::kByteArray, .utf8 = true},
       {.name = "srcport", .type = PhysicalType::kInt32}},
      {.codec = Codec::kSnappy, .dictionary_max_bytes = 50, .page_rows = 10, .row_group_rows = 30});
  for (int r = 0; r < 70; ++r) {
    writer.SetBytes(0, "10.0.0." + std::to_string(r));
    if (r % 2 == 0) writer.SetInt(1, r);
    ASSERT_OK(writer.EndRow());
  }
  EXPECT_EQ(writer.rows(), 70);
  Result<std::string> file = writer.Finish();
  ASSERT_OK(file);
  EXPECT_EQ(file->substr(0, 4), "PAR1");
  EXPECT_EQ(file->substr(file->size() - 4), "PAR1");

  RandomAccessObjectPtr object = NewMemoryRandomAccessObject(std::make_shared<std::string>(*file));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(object.get());
  ASSERT_OK(reader);
  const FileMetaData& m = (*reader)->metadata();
  EXPECT_THAT(m.fields, ElementsAre("srcaddr", "srcport"));
  ASSERT_EQ(m.row_groups.size(), 3u);
  EXPECT_EQ(m.row_groups[0].num_rows, 30);
  EXPECT_EQ(m.row_groups[2].num_rows, 10);
  const ColumnChunkMeta& addresses = m.row_groups[0].columns[0];
  EXPECT_EQ(addresses.codec, Codec::kSnappy);
  EXPECT_TRUE(addresses.dictionary_page_offset.has_value());
  // 30 distinct addresses pass 50 dictionary bytes: later pages are PLAIN.
  EXPECT_THAT(addresses.encodings, Contains(Encoding::kPlainDictionary));
  EXPECT_THAT(addresses.encodings, Contains(Encoding::kPlain));
}

TEST(WriterTest, AnEmptyFileHasNoRowGroups) {
  Writer writer({{.name = "a", .type = PhysicalType::kInt64}});
  Result<std::string> file = writer.Finish();
  ASSERT_OK(file);
  RandomAccessObjectPtr object = NewMemoryRandomAccessObject(std::make_shared<std::string>(*file));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(object.get());
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->metadata().num_rows, 0);
  EXPECT_TRUE((*reader)->metadata().row_groups.empty());
}

}  // namespace
}  // namespace vpcflow::parquet
