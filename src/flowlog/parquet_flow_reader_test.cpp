#include "flowlog/parquet_flow_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parquet/thrift_compact.hpp"
#include "parquet/writer.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"

namespace vpcflow {
namespace {

using parquet::PhysicalType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Cell = std::optional<std::string>;

struct Col {
  std::string name;
  PhysicalType type;
  std::vector<Cell> values;
};

std::string MakeFile(const std::vector<Col>& cols, parquet::WriterOptions options = {}) {
  std::vector<parquet::WriterColumn> schema;
  for (const Col& c : cols) schema.push_back({.name = c.name, .type = c.type});
  parquet::Writer writer(schema, options);
  for (size_t r = 0; r < cols[0].values.size(); ++r) {
    for (size_t c = 0; c < cols.size(); ++c) {
      const Cell& v = cols[c].values[r];
      if (!v) continue;
      if (cols[c].type == PhysicalType::kByteArray) {
        writer.SetBytes(c, *v);
      } else {
        writer.SetInt(c, std::stoll(*v));
      }
    }
    EXPECT_OK(writer.EndRow());
  }
  Result<std::string> file = writer.Finish();
  EXPECT_OK(file);
  return file.ok() ? *file : "";
}

// The outcome's name (LineOutcomeName lives in the digest layer above).
std::string Name(LineOutcome o) {
  switch (o) {
    case LineOutcome::kBadNumber:
      return "bad_number";
    case LineOutcome::kBadAddress:
      return "bad_address";
    case LineOutcome::kBadValue:
      return "bad_value";
    case LineOutcome::kStatusNoData:
      return "status_nodata";
    case LineOutcome::kStatusSkipData:
      return "status_skipdata";
    case LineOutcome::kStatusOther:
      return "status_other";
    case LineOutcome::kIncomplete:
      return "incomplete";
    default:
      return "outcome " + std::to_string(static_cast<int>(o));
  }
}

// The outcome's name for rows not used; the record as a digest line for used ones.
std::string Describe(LineOutcome o, const FlowRecord& r) {
  if (o != LineOutcome::kUsed) return Name(o);
  char src[kMaxIpTextLength + 1] = {};
  char dst[kMaxIpTextLength + 1] = {};
  FormatIpAddress(r.srcaddr, src);
  FormatIpAddress(r.dstaddr, dst);
  return std::string(r.account_id) + " " + std::string(r.interface_id) + " " + src + " " + dst +
         " " + std::to_string(r.srcport) + " " + std::to_string(r.dstport) + " " +
         std::to_string(r.protocol) + " " + std::to_string(r.packets) + " " +
         std::to_string(r.bytes) + " " + std::to_string(r.start) + " " + std::to_string(r.end) +
         " " + std::string(ActionName(r.action));
}

Result<std::vector<std::string>> ReadRows(const std::string& file,
                                          const ParquetReadOptions& options = {}) {
  VPCFLOW_ASSIGN_OR_RETURN(
      std::unique_ptr<ParquetFlowReader> reader,
      ParquetFlowReader::Open(NewMemoryRandomAccessObject(std::make_shared<std::string>(file)),
                              options));
  std::vector<std::string> rows;
  std::vector<FlowRecord> records(100);
  std::vector<LineOutcome> outcomes(100);
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(const size_t n, reader->Next(records, outcomes));
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) rows.push_back(Describe(outcomes[i], records[i]));
  }
  return rows;
}

// The default format with AWS's types: one row per entry of `rows` (fields by name; "-" = NULL).
std::vector<Col> DefaultColumns(const std::vector<std::map<std::string, std::string>>& rows) {
  const std::vector<std::pair<std::string, PhysicalType>> schema = {
      {"version", PhysicalType::kInt32},
      {"account_id", PhysicalType::kByteArray},
      {"interface_id", PhysicalType::kByteArray},
      {"srcaddr", PhysicalType::kByteArray},
      {"dstaddr", PhysicalType::kByteArray},
      {"srcport", PhysicalType::kInt32},
      {"dstport", PhysicalType::kInt32},
      {"protocol", PhysicalType::kInt32},
      {"packets", PhysicalType::kInt64},
      {"bytes", PhysicalType::kInt64},
      {"start", PhysicalType::kInt64},
      {"end", PhysicalType::kInt64},
      {"action", PhysicalType::kByteArray},
      {"log_status", PhysicalType::kByteArray}};
  const std::map<std::string, std::string> defaults = {
      {"version", "2"},          {"account_id", "123456789012"},
      {"interface_id", "eni-1"}, {"srcaddr", "10.0.0.1"},
      {"dstaddr", "10.0.0.2"},   {"srcport", "443"},
      {"dstport", "50000"},      {"protocol", "6"},
      {"packets", "3"},          {"bytes", "300"},
      {"start", "1546300800"},   {"end", "1546300860"},
      {"action", "ACCEPT"},      {"log_status", "OK"}};
  std::vector<Col> cols;
  for (const auto& [name, type] : schema) {
    Col c{name, type, {}};
    for (const auto& row : rows) {
      auto it = row.find(name);
      const std::string v = it != row.end() ? it->second : defaults.at(name);
      c.values.push_back(v == "NULL" ? Cell() : Cell(v));
    }
    cols.push_back(std::move(c));
  }
  return cols;
}

TEST(ParquetFlowReaderTest, ReadsRecordsOfTheDefaultFormat) {
  Result<std::vector<std::string>> rows =
      ReadRows(MakeFile(DefaultColumns({{}, {{"srcaddr", "2001:DB8:0:0:0:0:0:1"}}})));
  ASSERT_OK(rows);
  EXPECT_THAT(*rows,
              ElementsAre("123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 3 300 1546300800 "
                          "1546300860 ACCEPT",
                          "123456789012 eni-1 2001:db8::1 10.0.0.2 443 50000 6 3 300 1546300800 "
                          "1546300860 ACCEPT"));
}

TEST(ParquetFlowReaderTest, TakesAnyOrderAndSubsetAndIgnoresUnknownColumns) {
  const std::vector<Col> cols = {
      {"future_field", PhysicalType::kByteArray, {"x", "y"}},
      {"end", PhysicalType::kInt64, {"200", "300"}},
      {"dstaddr", PhysicalType::kByteArray, {"10.0.0.2", "10.0.0.3"}},
      {"vpc_id", PhysicalType::kByteArray, {"vpc-1", "vpc-2"}},
      {"protocol", PhysicalType::kInt32, {"17", "6"}},
      {"srcaddr", PhysicalType::kByteArray, {"10.0.0.1", "10.0.0.1"}},
      {"start", PhysicalType::kInt64, {"100", "250"}},
      {"dstport", PhysicalType::kInt32, {"53", "22"}},
      {"srcport", PhysicalType::kInt32, {"40000", "50000"}},
      {"tcp_flags", PhysicalType::kInt32, {"2", "19"}},
  };
  Result<std::vector<std::string>> rows = ReadRows(MakeFile(cols));
  ASSERT_OK(rows);
  EXPECT_THAT(*rows, ElementsAre("- - 10.0.0.1 10.0.0.2 40000 53 17 0 0 100 200 -",
                                 "- - 10.0.0.1 10.0.0.3 50000 22 6 0 0 250 300 -"));
}

// Each of these is read twice: with every column dictionary-encoded (the per-entry verdicts of
// status, addresses, action and ids) and with none (each value judged by itself).
TEST(ParquetFlowReaderTest, NullDashAndEmptyAreAllAbsent) {
  for (const bool dictionary : {true, false}) {
    SCOPED_TRACE(dictionary ? "dictionary" : "plain");
    Result<std::vector<std::string>> rows = ReadRows(MakeFile(
        DefaultColumns({
            {{"account_id", "NULL"}, {"interface_id", "-"}, {"packets", "NULL"}, {"bytes", "NULL"}},
            {{"account_id", ""}, {"action", "NULL"}, {"log_status", "NULL"}},
            {{"action", "-"}, {"log_status", "-"}},
            {{"srcaddr", "NULL"}},
            {{"dstaddr", "-"}},
            {{"srcport", "NULL"}},
            {{"end", "NULL"}},
        }),
        {.dictionary = dictionary}));
    ASSERT_OK(rows);
    EXPECT_THAT(*rows,
                ElementsAre("- - 10.0.0.1 10.0.0.2 443 50000 6 0 0 1546300800 1546300860 ACCEPT",
                            "- eni-1 10.0.0.1 10.0.0.2 443 50000 6 3 300 1546300800 1546300860 -",
                            "123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 3 300 "
                            "1546300800 1546300860 -",
                            "incomplete", "incomplete", "incomplete", "incomplete"));
  }
}

TEST(ParquetFlowReaderTest, JudgesValuesAsTheTextPathDoes) {
  for (const bool dictionary : {true, false}) {
    SCOPED_TRACE(dictionary ? "dictionary" : "plain");
    Result<std::vector<std::string>> rows = ReadRows(
        MakeFile(DefaultColumns({
                     {{"log_status", "NODATA"}, {"srcaddr", "NULL"}},
                     {{"log_status", "SKIPDATA"}},
                     {{"log_status", "WEIRD"}},
                     {{"srcaddr", "10.0.0.256"}},
                     {{"srcport", "65536"}},
                     {{"srcport", "-1"}},
                     {{"protocol", "256"}},
                     {{"end", "1546300799"}},
                     {{"bytes", "-5"}},
                     {{"action", "DROP"}},
                     {{"account_id", "1234 5678"}},
                     {{"start", "1546300800000"}, {"end", "1546300860000"}},  // milliseconds
                 }),
                 {.dictionary = dictionary}));
    ASSERT_OK(rows);
    EXPECT_THAT(*rows, ElementsAre("status_nodata", "status_skipdata", "status_other",
                                   "bad_address", "bad_number", "bad_number", "bad_number",
                                   "bad_number", "bad_number", "bad_value", "bad_value",
                                   "123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 3 300 "
                                   "1546300800 1546300860 ACCEPT"));
  }
}

TEST(ParquetFlowReaderTest, TakesTheFilesTypesAndWidensThem) {
  // Numbers as strings and INT64 ports, ids as INT64, a status and an address as numbers.
  const std::vector<Col> cols = {
      {"account_id", PhysicalType::kInt64, {"123456789012", "7"}},
      {"interface_id", PhysicalType::kByteArray, {"eni-1", "eni-1"}},
      {"srcaddr", PhysicalType::kByteArray, {"10.0.0.1", "10.0.0.1"}},
      {"dstaddr", PhysicalType::kByteArray, {"10.0.0.2", "10.0.0.2"}},
      {"srcport", PhysicalType::kByteArray, {"0443", "x"}},
      {"dstport", PhysicalType::kInt64, {"50000", "1"}},
      {"protocol", PhysicalType::kInt64, {"6", "6"}},
      {"bytes", PhysicalType::kByteArray, {"18446744073709551615", "1"}},
      {"start", PhysicalType::kInt32, {"100", "100"}},
      {"end", PhysicalType::kByteArray, {"200", "200"}},
  };
  Result<std::vector<std::string>> rows = ReadRows(MakeFile(cols));
  ASSERT_OK(rows);
  EXPECT_THAT(*rows, ElementsAre("123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 0 "
                                 "18446744073709551615 100 200 -",
                                 "bad_number"));

  const std::vector<Col> odd = {
      {"srcaddr", PhysicalType::kInt64, {"167772161", "1"}},
      {"dstaddr", PhysicalType::kByteArray, {"10.0.0.2", "10.0.0.2"}},
      {"srcport", PhysicalType::kInt32, {"1", "1"}},
      {"dstport", PhysicalType::kInt32, {"1", "1"}},
      {"protocol", PhysicalType::kInt32, {"1", "1"}},
      {"start", PhysicalType::kInt32, {"1", "1"}},
      {"end", PhysicalType::kInt32, {"1", "1"}},
      {"log_status", PhysicalType::kInt32, {Cell(), "0"}},
  };
  rows = ReadRows(MakeFile(odd));
  ASSERT_OK(rows);
  EXPECT_THAT(*rows, ElementsAre("bad_address", "status_other"));
}

TEST(ParquetFlowReaderTest, ReadsEveryRowOfManyRowGroupsAndPages) {
  std::vector<std::map<std::string, std::string>> spec(5000);
  for (size_t i = 0; i < spec.size(); ++i) {
    spec[i]["srcport"] = std::to_string(i % 60000);
    if (i % 7 == 0) spec[i]["log_status"] = "NODATA";
  }
  for (bool v2 : {false, true}) {
    Result<std::vector<std::string>> rows =
        ReadRows(MakeFile(DefaultColumns(spec), {.codec = parquet::Codec::kSnappy,
                                                 .data_page_v2 = v2,
                                                 .page_rows = 333,
                                                 .row_group_rows = 1200}));
    ASSERT_OK(rows);
    ASSERT_EQ(rows->size(), spec.size());
    for (size_t i = 0; i < spec.size(); ++i) {
      if (i % 7 == 0) {
        EXPECT_EQ((*rows)[i], "status_nodata");
      } else {
        EXPECT_THAT((*rows)[i], HasSubstr(" " + std::to_string(i % 60000) + " 50000 "));
      }
    }
  }
}

TEST(ParquetFlowReaderTest, ParsesEachDictionaryAddressOncePerRowGroup) {
  // Dictionary index 0 is 10.0.0.1 in the first row group and 10.0.0.9 in the second.
  Result<std::vector<std::string>> rows =
      ReadRows(MakeFile(DefaultColumns({{{"srcaddr", "10.0.0.1"}},
                                        {{"srcaddr", "bad"}},
                                        {{"srcaddr", "10.0.0.1"}},
                                        {{"srcaddr", "10.0.0.9"}},
                                        {{"srcaddr", "bad"}},
                                        {{"srcaddr", "NULL"}},
                                        {{"srcaddr", "10.0.0.9"}}}),
                        {.row_group_rows = 3}));
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_THAT((*rows)[0], HasSubstr(" 10.0.0.1 10.0.0.2 "));
  EXPECT_EQ((*rows)[1], "bad_address");
  EXPECT_THAT((*rows)[2], HasSubstr(" 10.0.0.1 10.0.0.2 "));
  EXPECT_THAT((*rows)[3], HasSubstr(" 10.0.0.9 10.0.0.2 "));
  EXPECT_EQ((*rows)[4], "bad_address");
  EXPECT_EQ((*rows)[5], "incomplete");
  EXPECT_THAT((*rows)[6], HasSubstr(" 10.0.0.9 10.0.0.2 "));
}

TEST(ParquetFlowReaderTest, JudgesEachDictionaryIdOncePerRowGroup) {
  // Dictionary index 0 holds a bad account-id in the first row group and a good one in the
  // second (both dictionaries of two entries), so a verdict kept across row groups would show.
  Result<std::vector<std::string>> rows = ReadRows(
      MakeFile(DefaultColumns({{{"account_id", "1234 5678"}},
                               {{"account_id", "111111111111"}},
                               {{"account_id", "1234 5678"}},
                               {{"account_id", "222222222222"}, {"interface_id", "eni-2"}},
                               {{"account_id", "1234 5678"}, {"interface_id", "eni-2"}},
                               {{"account_id", "222222222222"}, {"interface_id", "eni-\n"}},
                               {{"account_id", "222222222222"}, {"interface_id", "eni-2"}}}),
               {.row_group_rows = 3}));
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_EQ((*rows)[0], "bad_value");
  EXPECT_THAT((*rows)[1], HasSubstr("111111111111 eni-1 "));
  EXPECT_EQ((*rows)[2], "bad_value");
  EXPECT_THAT((*rows)[3], HasSubstr("222222222222 eni-2 "));
  EXPECT_EQ((*rows)[4], "bad_value");
  EXPECT_EQ((*rows)[5], "bad_value");  // the interface's newline
  EXPECT_THAT((*rows)[6], HasSubstr("222222222222 eni-2 "));
}

// A file whose footer is `footer` (no data).
std::string FooterOnly(const std::string& footer) {
  std::string bytes = "PAR1" + footer;
  const auto n = static_cast<uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return bytes + "PAR1";
}

TEST(ParquetFlowReaderTest, RefusesNeededColumnsOfOtherTypesOrShapes) {
  const std::vector<parquet::WriterColumn> doubles = {
      {.name = "srcport", .type = PhysicalType::kDouble}};
  EXPECT_THAT(ReadRows(FooterOnly(parquet::EncodeFileMetaData(doubles, {}, ""))),
              StatusIs(StatusCode::kDataLoss, HasSubstr("'srcport' has type DOUBLE")));
  // An unknown column of such a type is only ignored.
  const std::vector<parquet::WriterColumn> ignored = {
      {.name = "latency", .type = PhysicalType::kDouble}};
  EXPECT_OK(ReadRows(FooterOnly(parquet::EncodeFileMetaData(ignored, {}, ""))));

  // srcaddr as a group { a: binary }.
  parquet::CompactWriter w;
  w.BeginStruct();
  w.FieldListBegin(2, parquet::ThriftType::kStruct, 3);
  w.BeginStruct();
  w.FieldBinary(4, "schema");
  w.FieldI32(5, 1);
  w.EndStruct();
  w.BeginStruct();
  w.FieldI32(3, 1);
  w.FieldBinary(4, "srcaddr");
  w.FieldI32(5, 1);
  w.EndStruct();
  w.BeginStruct();
  w.FieldI32(1, 6);
  w.FieldI32(3, 1);
  w.FieldBinary(4, "a");
  w.EndStruct();
  w.FieldI64(3, 0);
  w.FieldListBegin(4, parquet::ThriftType::kStruct, 0);
  w.EndStruct();
  EXPECT_THAT(ReadRows(FooterOnly(w.Take())),
              StatusIs(StatusCode::kDataLoss, HasSubstr("'srcaddr' is nested")));
}

TEST(ParquetFlowReaderTest, AColumnWithFewerOrMoreValuesThanItsRowsIsDataLoss) {
  const std::string good =
      MakeFile(DefaultColumns(std::vector<std::map<std::string, std::string>>(10)));
  // Re-encode the footer with another row count.
  RandomAccessObjectPtr object = NewMemoryRandomAccessObject(std::make_shared<std::string>(good));
  Result<std::unique_ptr<parquet::FileReader>> reader = parquet::FileReader::Open(object.get());
  ASSERT_OK(reader);
  const parquet::FileMetaData& m = (*reader)->metadata();
  std::vector<parquet::WriterColumn> schema;
  for (size_t i = 0; i < m.leaves.size(); ++i) {
    schema.push_back({.name = m.fields[i], .type = m.leaves[i].type});
  }
  for (int64_t rows : {9, 11}) {
    std::vector<parquet::RowGroupMeta> groups = m.row_groups;
    groups[0].num_rows = rows;
    const std::string footer = parquet::EncodeFileMetaData(schema, groups, "");
    // The data stays where it is: cut the old footer, append the new one.
    uint32_t old_size;
    std::memcpy(&old_size, good.data() + good.size() - 8, 4);
    std::string bytes = good.substr(0, good.size() - 8 - old_size) + footer;
    const auto n = static_cast<uint32_t>(footer.size());
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    bytes += "PAR1";
    EXPECT_THAT(ReadRows(bytes), StatusIs(StatusCode::kDataLoss,
                                          HasSubstr(rows == 9 ? "more values" : "fewer values")))
        << rows;
  }
}

// A source with no random access, as a user's own ObjectSource might be.
class SequentialOnly : public ObjectSourceWrapper {
 public:
  using ObjectSourceWrapper::ObjectSourceWrapper;
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view, uint64_t) override {
    return UnimplementedError("no");
  }
};

TEST(ParquetFlowReaderTest, ReadsFromASourceWithoutRandomAccessWithinALimit) {
  MemoryObjectSource memory;
  memory.Put("x.parquet", MakeFile(DefaultColumns({{}, {}})));
  SequentialOnly source(&memory);
  Result<std::unique_ptr<ParquetFlowReader>> reader = ParquetFlowReader::Open(source, "x.parquet");
  ASSERT_OK(reader);
  std::vector<FlowRecord> records(10);
  std::vector<LineOutcome> outcomes(10);
  EXPECT_THAT((*reader)->Next(records, outcomes), IsOkAndHolds(2u));
  EXPECT_GT((*reader)->decompressed_bytes(), 0u);
  EXPECT_THAT(ParquetFlowReader::Open(source, "x.parquet", {.max_read_bytes = 100}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("larger than 100 bytes")));
  EXPECT_THAT(ParquetFlowReader::Open(source, "missing.parquet"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace vpcflow
