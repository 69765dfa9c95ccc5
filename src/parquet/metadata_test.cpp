#include "parquet/metadata.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/thrift_compact.hpp"
#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ColumnChunkMeta Chunk(PhysicalType type, int64_t offset) {
  ColumnChunkMeta m;
  m.type = type;
  m.codec = Codec::kSnappy;
  m.num_values = 10;
  m.total_compressed_size = 100;
  m.total_uncompressed_size = 200;
  m.data_page_offset = offset + 30;
  m.dictionary_page_offset = offset;
  m.encodings = {Encoding::kRle, Encoding::kPlainDictionary};
  return m;
}

TEST(MetadataTest, FooterRoundTrips) {
  const std::vector<WriterColumn> columns = {
      {.name = "srcaddr", .type = PhysicalType::kByteArray, .utf8 = true},
      {.name = "srcport", .type = PhysicalType::kInt32},
      {.name = "bytes", .type = PhysicalType::kInt64}};
  std::vector<RowGroupMeta> groups(2);
  for (int g = 0; g < 2; ++g) {
    groups[g].num_rows = 10;
    for (size_t c = 0; c < columns.size(); ++c) {
      groups[g].columns.push_back(Chunk(columns[c].type, 4 + 100 * (3 * g + c)));
    }
  }
  const std::string footer = EncodeFileMetaData(columns, groups, "test writer");
  Result<FileMetaData> m = ParseFileMetaData(Bytes(footer));
  ASSERT_OK(m);
  EXPECT_EQ(m->num_rows, 20);
  EXPECT_EQ(m->created_by, "test writer");
  EXPECT_THAT(m->fields, ElementsAre("srcaddr", "srcport", "bytes"));
  ASSERT_EQ(m->leaves.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m->leaves[i].field, i);
    EXPECT_FALSE(m->leaves[i].nested);
    EXPECT_EQ(m->leaves[i].type, columns[i].type);
    EXPECT_EQ(m->leaves[i].max_definition_level, 1);
    EXPECT_EQ(m->leaves[i].max_repetition_level, 0);
  }
  ASSERT_EQ(m->row_groups.size(), 2u);
  const ColumnChunkMeta& c = m->row_groups[1].columns[2];
  EXPECT_EQ(c.type, PhysicalType::kInt64);
  EXPECT_EQ(c.codec, Codec::kSnappy);
  EXPECT_EQ(c.num_values, 10);
  EXPECT_EQ(c.total_compressed_size, 100);
  EXPECT_EQ(c.dictionary_page_offset, 504);
  EXPECT_EQ(c.data_page_offset, 534);
  EXPECT_EQ(c.start_offset(), 504);
  EXPECT_THAT(c.encodings, ElementsAre(Encoding::kRle, Encoding::kPlainDictionary));
}

TEST(MetadataTest, StartOffsetIgnoresAnImpossibleDictionaryOffset) {
  ColumnChunkMeta m;
  m.data_page_offset = 100;
  EXPECT_EQ(m.start_offset(), 100);
  m.dictionary_page_offset = 0;  // written by some writers for "none"
  EXPECT_EQ(m.start_offset(), 100);
  m.dictionary_page_offset = 150;  // after the data: wrong
  EXPECT_EQ(m.start_offset(), 100);
  m.dictionary_page_offset = 60;
  EXPECT_EQ(m.start_offset(), 60);
}

// A footer with a nested schema: root { a: int32, g: group { x: int64, y: repeated binary },
// b: binary }.
std::string NestedFooter() {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldListBegin(2, ThriftType::kStruct, 6);
  auto element = [&](const char* name, int type, int repetition, int children) {
    w.BeginStruct();
    if (type >= 0) w.FieldI32(1, type);
    w.FieldI32(3, repetition);
    w.FieldBinary(4, name);
    if (children > 0) w.FieldI32(5, children);
    w.EndStruct();
  };
  element("schema", -1, 0, 3);
  element("a", 1, 1, 0);
  element("g", -1, 1, 2);
  element("x", 2, 0, 0);
  element("y", 6, 2, 0);
  element("b", 6, 0, 0);
  w.FieldI64(3, 0);
  w.FieldListBegin(4, ThriftType::kStruct, 0);
  w.EndStruct();
  return w.Take();
}

TEST(MetadataTest, FlattensNestedSchemasIntoLeaves) {
  const std::string footer = NestedFooter();
  Result<FileMetaData> m = ParseFileMetaData(Bytes(footer));
  ASSERT_OK(m);
  EXPECT_THAT(m->fields, ElementsAre("a", "g", "b"));
  ASSERT_EQ(m->leaves.size(), 4u);
  EXPECT_EQ(m->leaves[0].field, 0u);
  EXPECT_FALSE(m->leaves[0].nested);
  EXPECT_EQ(m->leaves[0].max_definition_level, 1);
  EXPECT_EQ(m->leaves[1].field, 1u);  // g.x
  EXPECT_TRUE(m->leaves[1].nested);
  EXPECT_EQ(m->leaves[1].max_definition_level, 1);
  EXPECT_EQ(m->leaves[2].field, 1u);  // g.y
  EXPECT_EQ(m->leaves[2].max_definition_level, 2);
  EXPECT_EQ(m->leaves[2].max_repetition_level, 1);
  EXPECT_EQ(m->leaves[3].field, 2u);
  EXPECT_EQ(m->leaves[3].max_definition_level, 0);  // REQUIRED
}

TEST(MetadataTest, RefusesSchemasWhoseChildCountsDoNotAddUp) {
  for (int root_children : {2, 9}) {
    CompactWriter w;
    w.BeginStruct();
    w.FieldListBegin(2, ThriftType::kStruct, 3);
    w.BeginStruct();
    w.FieldBinary(4, "schema");
    w.FieldI32(5, root_children);
    w.EndStruct();
    for (const char* name : {"a", "b"}) {
      w.BeginStruct();
      w.FieldI32(1, 1);
      w.FieldBinary(4, name);
      w.EndStruct();
    }
    w.FieldI64(3, 0);
    w.FieldListBegin(4, ThriftType::kStruct, 0);
    w.EndStruct();
    const std::string footer = w.Take();
    const int expected_error = root_children == 2 ? 0 : 1;
    if (expected_error == 0) {
      EXPECT_OK(ParseFileMetaData(Bytes(footer)));
    } else {
      EXPECT_THAT(ParseFileMetaData(Bytes(footer)),
                  StatusIs(StatusCode::kDataLoss, HasSubstr("child counts")));
    }
  }
}

TEST(MetadataTest, RefusesARowGroupThatDoesNotMatchTheSchema) {
  const std::vector<WriterColumn> columns = {{.name = "a", .type = PhysicalType::kInt32},
                                             {.name = "b", .type = PhysicalType::kInt64}};
  RowGroupMeta group;
  group.num_rows = 10;
  group.columns = {Chunk(PhysicalType::kInt32, 4)};
  EXPECT_THAT(ParseFileMetaData(Bytes(EncodeFileMetaData(columns, {&group, 1}, ""))),
              StatusIs(StatusCode::kDataLoss, HasSubstr("1 column chunks for 2 leaf columns")));
  group.columns.push_back(Chunk(PhysicalType::kByteArray, 104));
  EXPECT_THAT(ParseFileMetaData(Bytes(EncodeFileMetaData(columns, {&group, 1}, ""))),
              StatusIs(StatusCode::kDataLoss, HasSubstr("schema says INT64")));
}

TEST(MetadataTest, RefusesMissingRequiredFieldsAndNegativeSizes) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.EndStruct();
  EXPECT_THAT(ParseFileMetaData(Bytes(w.Take())),
              StatusIs(StatusCode::kDataLoss, HasSubstr("lacks its required field 2")));

  const std::vector<WriterColumn> columns = {{.name = "a", .type = PhysicalType::kInt32}};
  RowGroupMeta group;
  group.num_rows = 10;
  group.columns = {Chunk(PhysicalType::kInt32, 4)};
  group.columns[0].total_compressed_size = -5;
  EXPECT_THAT(ParseFileMetaData(Bytes(EncodeFileMetaData(columns, {&group, 1}, ""))),
              StatusIs(StatusCode::kDataLoss, HasSubstr("negative")));
}

TEST(MetadataTest, EveryTruncationOfAFooterIsDataLoss) {
  const std::vector<WriterColumn> columns = {{.name = "srcaddr", .type = PhysicalType::kByteArray}};
  RowGroupMeta group;
  group.num_rows = 10;
  group.columns = {Chunk(PhysicalType::kByteArray, 4)};
  const std::string footer = EncodeFileMetaData(columns, {&group, 1}, "w");
  for (size_t cut = 0; cut < footer.size(); ++cut) {
    EXPECT_THAT(ParseFileMetaData(Bytes(footer.substr(0, cut))), StatusIs(StatusCode::kDataLoss))
        << cut;
  }
}

TEST(MetadataTest, PageHeadersRoundTrip) {
  PageHeader v1;
  v1.type = PageType::kDataPage;
  v1.uncompressed_page_size = 1000;
  v1.compressed_page_size = 300;
  v1.data_page = DataPageHeader{.num_values = 77,
                                .encoding = Encoding::kRleDictionary,
                                .definition_level_encoding = Encoding::kRle,
                                .repetition_level_encoding = Encoding::kRle};
  std::string bytes = EncodePageHeader(v1) + "payload";
  size_t consumed = 0;
  Result<PageHeader> h = ParsePageHeader(Bytes(bytes), &consumed);
  ASSERT_OK(h);
  EXPECT_EQ(consumed, bytes.size() - 7);
  EXPECT_EQ(h->type, PageType::kDataPage);
  EXPECT_EQ(h->uncompressed_page_size, 1000);
  EXPECT_EQ(h->compressed_page_size, 300);
  ASSERT_TRUE(h->data_page);
  EXPECT_EQ(h->data_page->num_values, 77);
  EXPECT_EQ(h->data_page->encoding, Encoding::kRleDictionary);

  PageHeader v2;
  v2.type = PageType::kDataPageV2;
  v2.data_page_v2 = DataPageHeaderV2{.num_values = 5,
                                     .num_nulls = 2,
                                     .num_rows = 5,
                                     .encoding = Encoding::kDeltaByteArray,
                                     .definition_levels_byte_length = 3,
                                     .repetition_levels_byte_length = 0,
                                     .is_compressed = false};
  bytes = EncodePageHeader(v2);
  h = ParsePageHeader(Bytes(bytes), &consumed);
  ASSERT_OK(h);
  ASSERT_TRUE(h->data_page_v2);
  EXPECT_EQ(h->data_page_v2->num_nulls, 2);
  EXPECT_EQ(h->data_page_v2->definition_levels_byte_length, 3);
  EXPECT_FALSE(h->data_page_v2->is_compressed);
}

TEST(MetadataTest, RefusesAPageWithoutTheHeaderOfItsType) {
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.uncompressed_page_size = 10;
  h.compressed_page_size = 10;
  h.data_page = DataPageHeader{};
  const std::string bytes = EncodePageHeader(h);
  size_t consumed = 0;
  EXPECT_THAT(ParsePageHeader(Bytes(bytes), &consumed),
              StatusIs(StatusCode::kDataLoss, HasSubstr("without its header")));
}

}  // namespace
}  // namespace vpcflow::parquet
