#include "digest/partial_run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

struct OwnedKeyedRow {
  std::string account;
  std::string interface;
  DigestKey key;
  DigestValue value;
  KeyedRow view() const { return {account, interface, key, value}; }
};

// Distinct rows in key order: several owners, IPv4 and IPv6, values of every size.
std::vector<OwnedKeyedRow> SortedRows(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<OwnedKeyedRow> rows;
  for (size_t i = 0; i < n; ++i) {
    OwnedKeyedRow r;
    r.account = "12345678901" + std::to_string(rng() % 3);
    r.interface = "eni-" + std::to_string(rng() % 7);
    const bool src_v4 = rng() % 4 != 0;
    const bool dst_v4 = rng() % 4 != 0;
    for (size_t b = 0; b < (src_v4 ? 4u : 16u); ++b) r.key.src[b] = static_cast<uint8_t>(rng());
    for (size_t b = 0; b < (dst_v4 ? 4u : 16u); ++b) r.key.dst[b] = static_cast<uint8_t>(rng());
    r.key.srcport = static_cast<uint16_t>(rng());
    r.key.dstport = static_cast<uint16_t>(rng());
    r.key.protocol = static_cast<uint8_t>(rng());
    r.key.flags = DigestKey::Flags(static_cast<Action>(rng() % 3), src_v4, dst_v4);
    r.value = {rng() >> (rng() % 64), rng() >> (rng() % 64), rng() % 1000 + 1,
               static_cast<int64_t>(rng() % 2000000000) - 1000, 0};
    r.value.end = r.value.start + static_cast<int64_t>(rng() % 100000);
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const OwnedKeyedRow& a, const OwnedKeyedRow& b) {
    return CompareRowKeys(a.view(), b.view()) < 0;
  });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const OwnedKeyedRow& a, const OwnedKeyedRow& b) {
                           return CompareRowKeys(a.view(), b.view()) == 0;
                         }),
             rows.end());
  return rows;
}

DigestSummary SomeSummary() {
  DigestSummary s;
  s.window = {1546300800, 1546304400};
  s.objects_read = 7;
  s.objects_failed = 1;
  s.bytes_compressed = 12345;
  s.lines[0] = 99;
  s.lines[3] = 2;
  s.keys = 42;
  s.read_seconds = 1.5;
  s.problems.push_back({"AWSLogs/x.log.gz", "corrupt gzip: \"bad\"\n", ProblemKind::kCorrupt});
  return s;
}

std::string WriteKeyed(const std::vector<OwnedKeyedRow>& rows, PartialWriterOptions options = {}) {
  StringSink sink;
  PartialWriter writer(sink, PartialKind::kKeyed, options);
  for (const OwnedKeyedRow& r : rows) EXPECT_THAT(writer.Add(r.view()), IsOk());
  EXPECT_THAT(writer.Finish(SomeSummary()), IsOk());
  EXPECT_EQ(writer.rows(), rows.size());
  return sink.Release();
}

// Reads every keyed row; the first error otherwise.
Result<std::vector<OwnedKeyedRow>> ReadKeyed(std::string bytes, DigestSummary* summary = nullptr) {
  VPCFLOW_ASSIGN_OR_RETURN(
      auto reader, PartialReader::Open(
                       NewSharedStringReader(std::make_shared<const std::string>(std::move(bytes))),
                       PartialKind::kKeyed));
  std::vector<OwnedKeyedRow> rows;
  KeyedRow row;
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(const bool more, reader->Next(&row));
    if (!more) break;
    rows.push_back({std::string(row.account), std::string(row.interface), row.key, row.value});
  }
  if (summary != nullptr) *summary = reader->summary();
  return rows;
}

void ExpectSameRows(const std::vector<OwnedKeyedRow>& a, const std::vector<OwnedKeyedRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].account, b[i].account) << i;
    EXPECT_EQ(a[i].interface, b[i].interface) << i;
    EXPECT_TRUE(a[i].key == b[i].key) << i;
    EXPECT_EQ(a[i].value.packets, b[i].value.packets) << i;
    EXPECT_EQ(a[i].value.bytes, b[i].value.bytes) << i;
    EXPECT_EQ(a[i].value.flows, b[i].value.flows) << i;
    EXPECT_EQ(a[i].value.start, b[i].value.start) << i;
    EXPECT_EQ(a[i].value.end, b[i].value.end) << i;
  }
}

TEST(PartialRunTest, KeyedRowsRoundTripInManyBlocksAndCodecs) {
  const std::vector<OwnedKeyedRow> rows = SortedRows(5000, 1);
  for (int level : {0, 1, 3}) {
    const std::string bytes = WriteKeyed(rows, {.zstd_level = level, .block_bytes = 4096});
    DigestSummary summary;
    Result<std::vector<OwnedKeyedRow>> read = ReadKeyed(bytes, &summary);
    ASSERT_THAT(read, IsOk());
    ExpectSameRows(rows, *read);
    EXPECT_EQ(summary.window, SomeSummary().window);
    EXPECT_EQ(summary.objects_read, 7u);
    EXPECT_EQ(summary.objects_failed, 1u);
    EXPECT_EQ(summary.lines, SomeSummary().lines);
    EXPECT_EQ(summary.read_seconds, 1.5);
    ASSERT_EQ(summary.problems.size(), 1u);
    EXPECT_EQ(summary.problems[0].reason, "corrupt gzip: \"bad\"\n");
  }
}

TEST(PartialRunTest, EmptyRunRoundTrips) {
  Result<std::vector<OwnedKeyedRow>> read = ReadKeyed(WriteKeyed({}));
  ASSERT_THAT(read, IsOk());
  EXPECT_TRUE(read->empty());
}

TEST(PartialRunTest, OrderedRowsRoundTrip) {
  StringSink sink;
  PartialWriter writer(sink, PartialKind::kOrdered, {.block_bytes = 64});
  const std::vector<OrderedRow> rows = {{900, 1, 10, 20, "2 b\n"},
                                        {900, 2, -5, 20, "2 c\n"},
                                        {5, 3, 1LL << 50, (1LL << 50) + 1, "2 a\n"},
                                        {5, 1, 0, 0, "2 ab\n"},
                                        {0, 1, 7, 3, "2 z\n"}};
  for (const OrderedRow& r : rows) ASSERT_THAT(writer.Add(r), IsOk());
  ASSERT_THAT(writer.Finish(DigestSummary{}), IsOk());
  auto reader = PartialReader::Open(
      NewSharedStringReader(std::make_shared<const std::string>(sink.Release())),
      PartialKind::kOrdered);
  ASSERT_THAT(reader, IsOk());
  OrderedRow row;
  for (const OrderedRow& want : rows) {
    ASSERT_THAT((*reader)->Next(&row), IsOkAndHolds(true));
    EXPECT_EQ(row.bytes, want.bytes);
    EXPECT_EQ(row.flows, want.flows);
    EXPECT_EQ(row.start, want.start);
    EXPECT_EQ(row.end, want.end);
    EXPECT_EQ(row.line, want.line);
  }
  EXPECT_THAT((*reader)->Next(&row), IsOkAndHolds(false));
}

TEST(PartialRunTest, WriterRefusesRowsOutOfOrder) {
  const std::vector<OwnedKeyedRow> rows = SortedRows(3, 2);
  StringSink sink;
  PartialWriter writer(sink, PartialKind::kKeyed);
  ASSERT_THAT(writer.Add(rows[1].view()), IsOk());
  EXPECT_THAT(writer.Add(rows[0].view()), StatusIs(StatusCode::kFailedPrecondition));
  StringSink ordered_sink;
  PartialWriter ordered(ordered_sink, PartialKind::kOrdered);
  ASSERT_THAT(ordered.Add(OrderedRow{.bytes = 5, .line = "2 b\n"}), IsOk());
  EXPECT_THAT(ordered.Add(OrderedRow{.bytes = 5, .line = "2 a\n"}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(ordered.Add(OrderedRow{.bytes = 6, .line = "2 c\n"}),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(PartialRunTest, EveryFlippedByteIsDetected) {
  const std::string bytes = WriteKeyed(SortedRows(60, 3), {.zstd_level = 1, .block_bytes = 512});
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Result<std::vector<OwnedKeyedRow>> read = ReadKeyed(bad);
      ASSERT_FALSE(read.ok()) << "byte " << i << " mask " << int{mask};
      const StatusCode code = read.status().code();
      EXPECT_TRUE(code == StatusCode::kDataLoss || code == StatusCode::kFailedPrecondition)
          << "byte " << i << ": " << read.status().ToString();
    }
  }
}

TEST(PartialRunTest, EveryTruncationIsDataLoss) {
  const std::string bytes = WriteKeyed(SortedRows(40, 4), {.zstd_level = 0, .block_bytes = 256});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THAT(ReadKeyed(bytes.substr(0, n)), StatusIs(StatusCode::kDataLoss)) << n;
  }
  EXPECT_THAT(ReadKeyed(bytes + "x"), StatusIs(StatusCode::kDataLoss));
}

TEST(PartialRunTest, NewerVersionIsRefusedWithTheReason) {
  std::string bytes = WriteKeyed(SortedRows(5, 5));
  bytes[8] = 2;
  EXPECT_THAT(ReadKeyed(bytes), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("version 2")));
}

TEST(PartialRunTest, WrongKindAndNotARunAreDataLoss) {
  EXPECT_THAT(ReadKeyed("hello"), StatusIs(StatusCode::kDataLoss));
  StringSink sink;
  PartialWriter writer(sink, PartialKind::kOrdered);
  ASSERT_THAT(writer.Finish(DigestSummary{}), IsOk());
  EXPECT_THAT(ReadKeyed(sink.Release()), StatusIs(StatusCode::kDataLoss, HasSubstr("kind")));
}

// Every field distinct and set, so a field the trailer forgets shows.
DigestSummary FullSummary() {
  DigestSummary s = SomeSummary();
  uint64_t n = 100;
  for (uint64_t* count : {&s.objects_listed, &s.objects_ignored, &s.objects_out_of_range,
                          &s.objects_empty, &s.objects_read, &s.objects_parquet, &s.objects_failed,
                          &s.objects_vanished, &s.objects_not_files, &s.list_requests,
                          &s.bytes_compressed, &s.bytes_uncompressed, &s.keys}) {
    *count = n++;
  }
  for (uint64_t& line : s.lines) line = n++;
  s.list_seconds = 0.25;
  s.read_seconds = 1.5;
  s.total_seconds = 2.75;
  s.problems.push_back({"AWSLogs/y.log.gz", "gone", ProblemKind::kVanished});
  return s;
}

TEST(PartialRunTest, TheTrailerKeepsEverySummaryField) {
  const DigestSummary full = FullSummary();
  Result<DigestSummary> back = SummaryFromTrailerJson(SummaryToTrailerJson(full));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->ToJson(), full.ToJson());
  EXPECT_EQ(back->keys, full.keys);
  EXPECT_EQ(back->total_seconds, full.total_seconds);
}

TEST(PartialRunTest, ATrailerSummaryWithoutACountIsCorrupt) {
  std::string json = SummaryToTrailerJson(FullSummary());
  const std::string field = "\"objects_vanished\":";
  json.replace(json.find(field), field.size(), "\"objects_gone\":");
  EXPECT_THAT(SummaryFromTrailerJson(json),
              StatusIs(StatusCode::kDataLoss, HasSubstr("a count is missing")));
}

TEST(PartialRunTest, SummariesAdd) {
  DigestSummary a = SomeSummary();
  AddSummary(a, SomeSummary());
  EXPECT_EQ(a.objects_read, 14u);
  EXPECT_EQ(a.lines[0], 198u);
  EXPECT_EQ(a.problems.size(), 2u);
  EXPECT_EQ(a.window, SomeSummary().window);
  // Every counter and timing adds.
  DigestSummary twice = FullSummary();
  AddSummary(twice, FullSummary());
  DigestSummary doubled = FullSummary();
  for (uint64_t* count :
       {&doubled.objects_listed, &doubled.objects_ignored, &doubled.objects_out_of_range,
        &doubled.objects_empty, &doubled.objects_read, &doubled.objects_parquet,
        &doubled.objects_failed, &doubled.objects_vanished, &doubled.objects_not_files,
        &doubled.list_requests, &doubled.bytes_compressed, &doubled.bytes_uncompressed,
        &doubled.keys}) {
    *count *= 2;
  }
  for (uint64_t& line : doubled.lines) line *= 2;
  doubled.list_seconds *= 2;
  doubled.read_seconds *= 2;
  doubled.total_seconds *= 2;
  const std::vector<ObjectProblem> problems = FullSummary().problems;
  doubled.problems.insert(doubled.problems.end(), problems.begin(), problems.end());
  EXPECT_EQ(twice.ToJson(), doubled.ToJson());
  EXPECT_EQ(twice.keys, doubled.keys);
  EXPECT_EQ(twice.total_seconds, doubled.total_seconds);
}

}  // namespace
}  // namespace vpcflow
