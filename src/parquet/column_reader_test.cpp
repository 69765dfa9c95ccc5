#include "parquet/column_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "parquet/codec.hpp"
#include "parquet/delta.hpp"
#include "parquet/file_reader.hpp"
#include "parquet/rle.hpp"
#include "parquet/writer.hpp"
#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::HasSubstr;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A column's values as read: nullopt for null; ints or strings.
using Cell = std::optional<std::string>;

std::vector<Cell> ReadAll(ColumnChunkReader& reader, Status* status) {
  std::vector<Cell> out;
  for (;;) {
    Result<size_t> n = reader.Next(ColumnChunkReader::kMaxRun);
    if (!n.ok()) {
      *status = n.status();
      return out;
    }
    if (*n == 0) return out;
    for (size_t i = 0; i < *n; ++i) {
      if (!reader.present()[i]) {
        out.push_back(std::nullopt);
      } else if (reader.is_int()) {
        out.push_back(std::to_string(reader.ints()[i]));
      } else {
        out.push_back(std::string(reader.strings()[i].view()));
      }
    }
  }
}

struct Table {
  std::vector<WriterColumn> columns;
  std::vector<std::vector<Cell>> cells;  // by column
};

// Flow-log-like columns: INT32 ports with nulls, INT64 times, addresses with nulls and many
// distinct values (so dictionaries overflow), a low-cardinality action.
Table MakeTable(size_t rows) {
  Table t;
  t.columns = {{.name = "srcport", .type = PhysicalType::kInt32},
               {.name = "start", .type = PhysicalType::kInt64},
               {.name = "srcaddr", .type = PhysicalType::kByteArray, .utf8 = true},
               {.name = "action", .type = PhysicalType::kByteArray, .utf8 = true}};
  t.cells.resize(4);
  std::mt19937 rng(11);
  for (size_t r = 0; r < rows; ++r) {
    t.cells[0].push_back(r % 10 == 3 ? Cell() : Cell(std::to_string(rng() % 65536)));
    t.cells[1].push_back(std::to_string(1546300800 + static_cast<int64_t>(r) * 7 -
                                        static_cast<int64_t>(rng() % 100)));
    t.cells[2].push_back(r % 17 == 0
                             ? Cell()
                             : Cell("10." + std::to_string(rng() % 256) + "." +
                                    std::to_string(rng() % 256) + "." + std::to_string(r % 256)));
    t.cells[3].push_back(Cell(rng() % 9 == 0 ? "REJECT" : "ACCEPT"));
  }
  return t;
}

std::string Write(const Table& t, const WriterOptions& options) {
  Writer writer(t.columns, options);
  for (size_t r = 0; r < t.cells[0].size(); ++r) {
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell& cell = t.cells[c][r];
      if (!cell) continue;
      if (t.columns[c].type == PhysicalType::kByteArray) {
        writer.SetBytes(c, *cell);
      } else {
        writer.SetInt(c, std::stoll(*cell));
      }
    }
    EXPECT_OK(writer.EndRow());
  }
  Result<std::string> file = writer.Finish();
  EXPECT_OK(file);
  return file.ok() ? *file : "";
}

// Reads every column of every row group back.
std::vector<std::vector<Cell>> ReadFile(const std::string& bytes, Status* status,
                                        const ReaderLimits& limits = {}) {
  std::vector<std::vector<Cell>> out;
  RandomAccessObjectPtr file = NewMemoryRandomAccessObject(std::make_shared<std::string>(bytes));
  Result<std::unique_ptr<FileReader>> reader = FileReader::Open(file.get(), limits);
  if (!reader.ok()) {
    *status = reader.status();
    return out;
  }
  const size_t n = (*reader)->metadata().leaves.size();
  out.resize(n);
  std::vector<size_t> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(i);
  for (size_t g = 0; g < (*reader)->metadata().row_groups.size(); ++g) {
    Result<RowGroupReader> group = (*reader)->ReadRowGroup(g, leaves);
    if (!group.ok()) {
      *status = group.status();
      return out;
    }
    for (size_t c = 0; c < n; ++c) {
      std::vector<Cell> cells = ReadAll(*group->columns()[c], status);
      if (!status->ok()) return out;
      out[c].insert(out[c].end(), cells.begin(), cells.end());
    }
  }
  return out;
}

using Variant = std::tuple<Codec, bool /*v2*/, Encoding /*plain*/, bool /*dictionary*/>;

class ColumnRoundTripTest : public ::testing::TestWithParam<Variant> {};

TEST_P(ColumnRoundTripTest, ReadsBackWhatWasWritten) {
  const auto [codec, v2, plain, dictionary] = GetParam();
  const Table t = MakeTable(5000);
  WriterOptions options{.codec = codec,
                        .data_page_v2 = v2,
                        .dictionary = dictionary,
                        .dictionary_max_bytes = 4000,  // srcaddr falls back mid-chunk
                        .plain_encoding = plain,
                        .page_rows = 700,
                        .row_group_rows = 2200};
  const std::string file = Write(t, options);
  Status status;
  const std::vector<std::vector<Cell>> got = ReadFile(file, &status);
  ASSERT_OK(status);
  ASSERT_EQ(got.size(), t.cells.size());
  for (size_t c = 0; c < got.size(); ++c) EXPECT_EQ(got[c], t.cells[c]) << t.columns[c].name;
}

INSTANTIATE_TEST_SUITE_P(Variants, ColumnRoundTripTest,
                         ::testing::Combine(::testing::Values(Codec::kUncompressed, Codec::kGzip,
                                                              Codec::kSnappy, Codec::kZstd),
                                            ::testing::Bool(),
                                            ::testing::Values(Encoding::kPlain,
                                                              Encoding::kDeltaBinaryPacked,
                                                              Encoding::kDeltaLengthByteArray,
                                                              Encoding::kDeltaByteArray),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return CodecName(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_v2_" : "_v1_") +
                                  EncodingName(std::get<2>(info.param)) +
                                  (std::get<3>(info.param) ? "_dictionary" : "_plain");
                         });

// Nulls wherever a run of values can have them: first and last of a page, runs of them, a page
// of nulls only, and at random; for ints and strings, with and without a dictionary.
TEST(ColumnChunkReaderTest, NullsAnywhereInAPageReadBackInPlace) {
  Table t;
  t.columns = {{.name = "dstport", .type = PhysicalType::kInt32},
               {.name = "dstaddr", .type = PhysicalType::kByteArray, .utf8 = true}};
  t.cells.resize(2);
  std::mt19937 rng(5);
  for (size_t r = 0; r < 1000; ++r) {
    const size_t in_page = r % 64;
    const bool null = in_page <= 2 || in_page == 63 || (r >= 128 && r < 192) || rng() % 10 < 3;
    t.cells[0].push_back(null ? Cell() : Cell(std::to_string(rng() % 65536)));
    t.cells[1].push_back(rng() % 4 == 0 ? Cell() : Cell("10.0.0." + std::to_string(r % 7)));
    if (null) t.cells[1].back() = Cell();
  }
  for (const bool dictionary : {false, true}) {
    for (const bool v2 : {false, true}) {
      const std::string file = Write(t, WriterOptions{.codec = Codec::kUncompressed,
                                                      .data_page_v2 = v2,
                                                      .dictionary = dictionary,
                                                      .page_rows = 64,
                                                      .row_group_rows = 640});
      Status status;
      const std::vector<std::vector<Cell>> got = ReadFile(file, &status);
      ASSERT_OK(status);
      ASSERT_EQ(got.size(), 2u);
      EXPECT_EQ(got[0], t.cells[0]) << "dictionary " << dictionary << " v2 " << v2;
      EXPECT_EQ(got[1], t.cells[1]) << "dictionary " << dictionary << " v2 " << v2;
    }
  }
}

// Hand-made chunks: one OPTIONAL column, its pages as given.
class HostileChunkTest : public ::testing::Test {
 protected:
  static std::string Page(PageType type, const std::string& body, int32_t num_values,
                          Encoding encoding, int32_t uncompressed = -1) {
    PageHeader h;
    h.type = type;
    h.uncompressed_page_size = uncompressed >= 0 ? uncompressed : static_cast<int32_t>(body.size());
    h.compressed_page_size = static_cast<int32_t>(body.size());
    if (type == PageType::kDictionaryPage) {
      h.dictionary_page = DictionaryPageHeader{.num_values = num_values, .encoding = encoding};
    } else {
      h.data_page = DataPageHeader{.num_values = num_values,
                                   .encoding = encoding,
                                   .definition_level_encoding = Encoding::kRle,
                                   .repetition_level_encoding = Encoding::kRle};
    }
    return EncodePageHeader(h) + body;
  }
  // A v1 data page body: every value present, then `values`.
  static std::string Body(size_t n, const std::string& values) {
    std::string levels;
    RleEncode(std::vector<uint32_t>(n, 1), 1, &levels);
    std::string body(4, '\0');
    body[0] = static_cast<char>(levels.size());
    return body + levels + values;
  }
  static std::string PlainStrings(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& v : values) {
      out += std::string(1, static_cast<char>(v.size())) + std::string(3, '\0') + v;
    }
    return out;
  }

  Status ReadChunk(const std::string& chunk, PhysicalType type = PhysicalType::kByteArray,
                   Codec codec = Codec::kUncompressed, uint64_t budget_bytes = 1 << 20) {
    LeafColumn leaf{.type = type, .max_definition_level = 1};
    ColumnChunkMeta meta;
    meta.type = type;
    meta.codec = codec;
    ByteBudget budget(budget_bytes);
    Result<std::unique_ptr<ColumnChunkReader>> reader =
        ColumnChunkReader::Make("c", leaf, meta, Bytes(chunk), &budget);
    if (!reader.ok()) return reader.status();
    Status status;
    cells_ = ReadAll(**reader, &status);
    return status;
  }
  std::vector<Cell> cells_;
};

TEST_F(HostileChunkTest, AGoodChunkReads) {
  const std::string dict = Page(PageType::kDictionaryPage, PlainStrings({"ACCEPT", "REJECT"}), 2,
                                Encoding::kPlainDictionary);
  std::string indices = "\x01";
  RleEncode(std::vector<uint32_t>{1, 0, 1}, 1, &indices);
  const std::string data = Page(PageType::kDataPage, Body(3, indices), 3, Encoding::kRleDictionary);
  ASSERT_OK(ReadChunk(dict + data));
  EXPECT_EQ(cells_, (std::vector<Cell>{"REJECT", "ACCEPT", "REJECT"}));
}

TEST_F(HostileChunkTest, ABadDictionaryIndexIsDataLoss) {
  const std::string dict =
      Page(PageType::kDictionaryPage, PlainStrings({"ACCEPT"}), 1, Encoding::kPlain);
  std::string indices = "\x02";
  RleEncode(std::vector<uint32_t>{0, 3}, 2, &indices);
  const std::string data = Page(PageType::kDataPage, Body(2, indices), 2, Encoding::kRleDictionary);
  EXPECT_THAT(ReadChunk(dict + data),
              StatusIs(StatusCode::kDataLoss, HasSubstr("dictionary index 3 past the 1 values")));
}

// Every position of a run (those checked four at a time and the rest), the first index past
// the dictionary and those with the top bit set (an unsigned check, not a signed one).
TEST_F(HostileChunkTest, AnIndexPastTheDictionaryAnywhereInARunIsDataLoss) {
  const std::string dict =
      Page(PageType::kDictionaryPage, PlainStrings({"ACCEPT", "REJECT"}), 2, Encoding::kPlain);
  auto run = [&](const std::vector<uint32_t>& values) {
    std::string indices = "\x20";  // width 32
    RleEncode(values, 32, &indices);
    const auto n = static_cast<int32_t>(values.size());
    return ReadChunk(dict + Page(PageType::kDataPage, Body(values.size(), indices), n,
                                 Encoding::kRleDictionary));
  };
  EXPECT_OK(run(std::vector<uint32_t>(9, 1)));
  for (const uint32_t bad : {2u, 0x80000000u, 0xffffffffu}) {
    for (size_t at = 0; at < 9; ++at) {
      std::vector<uint32_t> values(9, 1);
      values[at] = bad;
      EXPECT_THAT(run(values), StatusIs(StatusCode::kDataLoss,
                                        HasSubstr("dictionary index " + std::to_string(bad))))
          << "at " << at;
    }
  }
}

TEST_F(HostileChunkTest, ADictionaryPageWithoutADictionaryOrAfterDataIsDataLoss) {
  std::string indices = "\x01";
  RleEncode(std::vector<uint32_t>{0}, 1, &indices);
  const std::string data = Page(PageType::kDataPage, Body(1, indices), 1, Encoding::kRleDictionary);
  EXPECT_THAT(ReadChunk(data), StatusIs(StatusCode::kDataLoss, HasSubstr("without a dictionary")));
  const std::string plain =
      Page(PageType::kDataPage, Body(1, PlainStrings({"x"})), 1, Encoding::kPlain);
  const std::string dict =
      Page(PageType::kDictionaryPage, PlainStrings({"a"}), 1, Encoding::kPlain);
  EXPECT_THAT(ReadChunk(plain + dict),
              StatusIs(StatusCode::kDataLoss, HasSubstr("dictionary page after")));
}

TEST_F(HostileChunkTest, ADictionaryThatClaimsMoreValuesThanItsBytesIsDataLoss) {
  const std::string dict =
      Page(PageType::kDictionaryPage, PlainStrings({"a"}), 1000000, Encoding::kPlain);
  EXPECT_THAT(ReadChunk(dict), StatusIs(StatusCode::kDataLoss, HasSubstr("fewer values")));
}

TEST_F(HostileChunkTest, TruncatedPagesAreDataLoss) {
  const std::string page =
      Page(PageType::kDataPage, Body(3, PlainStrings({"a", "bb", "ccc"})), 3, Encoding::kPlain);
  for (size_t cut = 1; cut < page.size(); ++cut) {
    EXPECT_THAT(ReadChunk(page.substr(0, cut)), StatusIs(StatusCode::kDataLoss)) << cut;
  }
  // A page whose values end before its count.
  const std::string short_values =
      Page(PageType::kDataPage, Body(4, PlainStrings({"a", "bb", "ccc"})), 4, Encoding::kPlain);
  EXPECT_THAT(ReadChunk(short_values),
              StatusIs(StatusCode::kDataLoss, HasSubstr("PLAIN values end early")));
}

TEST_F(HostileChunkTest, APageThatLiesAboutItsSizeIsDataLoss) {
  const std::string body = Body(2, PlainStrings({"a", "b"}));
  Result<std::string> packed = Compress(Codec::kSnappy, Bytes(body));
  ASSERT_OK(packed);
  const std::string page = Page(PageType::kDataPage, *packed, 2, Encoding::kPlain,
                                static_cast<int32_t>(body.size() + 10));
  EXPECT_THAT(ReadChunk(page, PhysicalType::kByteArray, Codec::kSnappy),
              StatusIs(StatusCode::kDataLoss, HasSubstr("SNAPPY page decompresses to")));
}

TEST_F(HostileChunkTest, APageLargerThanTheBudgetIsRefusedBeforeItIsAllocated) {
  const std::string body = Body(2, PlainStrings({"a", "b"}));
  Result<std::string> packed = Compress(Codec::kZstd, Bytes(body));
  ASSERT_OK(packed);
  // It claims 2 GB uncompressed: refused by the budget, not allocated.
  const std::string page = Page(PageType::kDataPage, *packed, 2, Encoding::kPlain, 2000000000);
  EXPECT_THAT(ReadChunk(page, PhysicalType::kByteArray, Codec::kZstd, 1 << 20),
              StatusIs(StatusCode::kDataLoss, HasSubstr("memory limit")));
}

TEST_F(HostileChunkTest, LevelsAboveTheMaximumAreDataLoss) {
  const std::string levels("\x04\x03", 2);  // an RLE run of two 3s (the maximum is 1)
  std::string body(4, '\0');
  body[0] = static_cast<char>(levels.size());
  body += levels + PlainStrings({"a", "b"});
  EXPECT_THAT(ReadChunk(Page(PageType::kDataPage, body, 2, Encoding::kPlain)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("definition level above")));
}

TEST_F(HostileChunkTest, DeltaByteArrayPrefixesPastThePreviousValueAreDataLoss) {
  std::string values;
  std::vector<int64_t> prefixes = {0, 5};  // the first value has 1 byte: a prefix of 5 is bad
  std::vector<int64_t> suffixes = {1, 1};
  DeltaEncode(prefixes, &values);
  DeltaEncode(suffixes, &values);
  values += "ab";
  EXPECT_THAT(ReadChunk(Page(PageType::kDataPage, Body(2, values), 2, Encoding::kDeltaByteArray)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("prefix or suffix out of range")));
}

TEST_F(HostileChunkTest, AnEncodingThatDoesNotFitTheTypeIsDataLoss) {
  EXPECT_THAT(
      ReadChunk(Page(PageType::kDataPage, Body(1, "xxxx"), 1, Encoding::kDeltaBinaryPacked)),
      StatusIs(StatusCode::kDataLoss, HasSubstr("not supported for BYTE_ARRAY")));
  EXPECT_THAT(ReadChunk(Page(PageType::kDataPage, Body(1, "xxxx"), 1, Encoding::kBitPacked)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("not supported")));
}

TEST(ColumnChunkReaderTest, RefusesColumnsItCannotDecode) {
  ByteBudget budget(1 << 20);
  ColumnChunkMeta meta;
  for (PhysicalType type : {PhysicalType::kBoolean, PhysicalType::kDouble, PhysicalType::kInt96}) {
    LeafColumn leaf{.type = type, .max_definition_level = 1};
    EXPECT_THAT(ColumnChunkReader::Make("c", leaf, meta, {}, &budget),
                StatusIs(StatusCode::kDataLoss, HasSubstr("not supported")));
  }
  LeafColumn repeated{
      .type = PhysicalType::kInt32, .max_definition_level = 1, .max_repetition_level = 1};
  EXPECT_THAT(ColumnChunkReader::Make("c", repeated, meta, {}, &budget),
              StatusIs(StatusCode::kDataLoss, HasSubstr("nested or repeated")));
  LeafColumn plain{.type = PhysicalType::kInt32, .max_definition_level = 1};
  meta.codec = Codec::kBrotli;
  EXPECT_THAT(ColumnChunkReader::Make("c", plain, meta, {}, &budget),
              StatusIs(StatusCode::kDataLoss, HasSubstr("BROTLI is not supported")));
}

TEST(ColumnChunkReaderTest, ReadsRequiredColumnsAndUnsignedInts) {
  // A REQUIRED INT32 column (no levels) declared unsigned, PLAIN: 4000000000 stays positive.
  std::string values;
  for (uint32_t v : {1u, 4000000000u}) {
    for (int i = 0; i < 4; ++i) values.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_page_size = h.compressed_page_size = static_cast<int32_t>(values.size());
  h.data_page = DataPageHeader{.num_values = 2, .encoding = Encoding::kPlain};
  const std::string chunk = EncodePageHeader(h) + values;
  LeafColumn leaf{.type = PhysicalType::kInt32, .max_definition_level = 0, .is_unsigned = true};
  ColumnChunkMeta meta;
  ByteBudget budget(1 << 20);
  Result<std::unique_ptr<ColumnChunkReader>> reader =
      ColumnChunkReader::Make("c", leaf, meta, Bytes(chunk), &budget);
  ASSERT_OK(reader);
  Status status;
  EXPECT_EQ(ReadAll(**reader, &status), (std::vector<Cell>{"1", "4000000000"}));
  EXPECT_OK(status);
}

// A caller that reads a dictionary-encoded run by index gets the dictionary and the indices, and
// no strings; a dictionary above its bound still has its strings set, and so does a PLAIN run.
TEST(ColumnChunkReaderTest, LeavesDictionaryStringsUnsetUpToTheBound) {
  Table t;
  t.columns = {{.name = "srcaddr", .type = PhysicalType::kByteArray, .utf8 = true}};
  t.cells.resize(1);
  for (size_t r = 0; r < 300; ++r) {
    t.cells[0].push_back(r % 7 == 2 ? Cell() : Cell("10.0.0." + std::to_string(r % 5)));
  }
  for (const bool dictionary : {true, false}) {
    for (const size_t bound : {size_t{5}, size_t{4}}) {
      const std::string file = Write(
          t,
          WriterOptions{.codec = Codec::kUncompressed, .dictionary = dictionary, .page_rows = 100});
      RandomAccessObjectPtr object =
          NewMemoryRandomAccessObject(std::make_shared<std::string>(file));
      Result<std::unique_ptr<FileReader>> reader = FileReader::Open(object.get(), {});
      ASSERT_OK(reader);
      Result<RowGroupReader> group = (*reader)->ReadRowGroup(0, std::vector<size_t>{0});
      ASSERT_OK(group);
      ColumnChunkReader& column = *group->columns()[0];
      column.LeaveDictionaryStringsUnset(bound);
      std::vector<Cell> got;
      for (;;) {
        Result<size_t> n = column.Next(ColumnChunkReader::kMaxRun);
        ASSERT_OK(n);
        if (*n == 0) break;
        // The 5 distinct values fit a bound of 5, not of 4.
        EXPECT_EQ(column.strings_unset(), dictionary && bound == 5);
        for (size_t i = 0; i < *n; ++i) {
          if (!column.present()[i]) {
            got.push_back(std::nullopt);
          } else if (column.strings_unset()) {
            const ByteView v = column.dictionary_strings()[column.dictionary_indices()[i]];
            EXPECT_LE(v.data + v.size, column.dictionary_bytes_end());
            got.push_back(std::string(v.view()));
          } else {
            got.push_back(std::string(column.strings()[i].view()));
          }
        }
      }
      EXPECT_EQ(got, t.cells[0]) << "dictionary " << dictionary << " bound " << bound;
    }
  }
}

}  // namespace
}  // namespace vpcflow::parquet
