#include "generate/parquet_convert.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "parquet/file_reader.hpp"
#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using parquet::PhysicalType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<parquet::FileMetaData> Footer(const std::string& file) {
  RandomAccessObjectPtr object = NewMemoryRandomAccessObject(std::make_shared<std::string>(file));
  VPCFLOW_ASSIGN_OR_RETURN(auto reader, parquet::FileReader::Open(object.get()));
  return reader->metadata();
}

TEST(ParquetConvertTest, NamesColumnsWithUnderscoresAndTypesThemAsAwsDoes) {
  Result<std::string> file = FlowLogTextToParquet(
      "version account-id srcport packets tcp-flags log-status future-field\n"
      "5 123456789012 443 10 19 OK x\n"
      "5 - - - - NODATA y\n");
  ASSERT_OK(file);
  Result<parquet::FileMetaData> m = Footer(*file);
  ASSERT_OK(m);
  EXPECT_THAT(m->fields, ElementsAre("version", "account_id", "srcport", "packets", "tcp_flags",
                                     "log_status", "future_field"));
  std::vector<PhysicalType> types;
  for (const auto& leaf : m->leaves) types.push_back(leaf.type);
  EXPECT_THAT(types, ElementsAre(PhysicalType::kInt32, PhysicalType::kByteArray,
                                 PhysicalType::kInt32, PhysicalType::kInt64, PhysicalType::kInt32,
                                 PhysicalType::kByteArray, PhysicalType::kByteArray));
  EXPECT_EQ(m->num_rows, 2);
}

TEST(ParquetConvertTest, ANumericColumnWithAWordBecomesAStringColumn) {
  Result<std::string> file = FlowLogTextToParquet(
      "srcport dstport\n"
      "443 x\n"
      "99999999999 80\n");
  ASSERT_OK(file);
  Result<parquet::FileMetaData> m = Footer(*file);
  ASSERT_OK(m);
  EXPECT_EQ(m->leaves[0].type, PhysicalType::kByteArray);  // too large for INT32
  EXPECT_EQ(m->leaves[1].type, PhysicalType::kByteArray);
}

TEST(ParquetConvertTest, WithoutAHeaderTheDefaultFormatApplies) {
  Result<std::string> file = FlowLogTextToParquet(
      "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 100 1546300800 1546300860 ACCEPT "
      "OK\n\n");
  ASSERT_OK(file);
  Result<parquet::FileMetaData> m = Footer(*file);
  ASSERT_OK(m);
  EXPECT_EQ(m->fields.size(), 14u);
  EXPECT_EQ(m->fields[13], "log_status");
  EXPECT_EQ(m->num_rows, 1);  // the blank line is dropped
}

TEST(ParquetConvertTest, RefusesLinesParquetCannotHold) {
  EXPECT_THAT(FlowLogTextToParquet("srcport dstport\n1 2 3\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 2 has 3 fields")));
}

}  // namespace
}  // namespace vpcflow
