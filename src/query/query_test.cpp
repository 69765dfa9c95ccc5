#include "query/query.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "query/row_file.hpp"
#include "query/test_rows.hpp"
#include "testing/no_new_threads.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_records::EncodeToString;
using testing_rows::MakeDigest;
using testing_rows::R;
using testing_rows::ReaderOf;
using testing_rows::Rec;
using testing_rows::StoredFlowLog;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

Result<std::string> Query(RowSource& rows, const QueryParams& params) {
  VPCFLOW_ASSIGN_OR_RETURN(QuerySpec spec, ParseQuery(params));
  StringSink sink;
  VPCFLOW_RETURN_IF_ERROR(RunQuery(rows, spec, sink));
  return sink.Release();
}
Result<std::string> Query(const Digest& digest, const QueryParams& params) {
  RowSourcePtr rows = NewDigestRowSource(digest);
  return Query(*rows, params);
}

const std::vector<Rec>& Sample() {
  static const std::vector<Rec> recs = {
      R("10.0.0.1", "10.0.1.7", 0, 443, 5000, Action::kAccept, 10),
      R("10.0.1.7", "10.0.0.1", 443, 0, 90000, Action::kAccept, 60),
      R("10.0.0.2", "10.0.1.7", 0, 22, 300, Action::kReject, 5),
      R("10.0.0.3", "10.0.1.8", 0, 3389, 300, Action::kReject, 7),
      R("2001:db8::5", "2001:db8:1::9", 0, 80, 1200, Action::kAccept, 3),
      R("192.168.4.4", "10.0.0.1", 0, 53, 64, Action::kAccept, 1),
  };
  return recs;
}

TEST(RunQueryTest, PlainQueryIsTheDigestsOwnEncoding) {
  const Digest digest = MakeDigest(Sample());
  for (auto [name, format] :
       {std::pair{"flowlog", DigestFormat::kFlowLog}, std::pair{"ndjson", DigestFormat::kNdjson},
        std::pair{"csv", DigestFormat::kCsv}}) {
    EXPECT_THAT(Query(digest, {.format = name}), IsOkAndHolds(EncodeToString(digest, format)))
        << name;
  }
}

TEST(RunQueryTest, FilterKeepsTheDigestOrder) {
  const Digest digest = MakeDigest(Sample());
  Result<std::string> out = Query(digest, {.filter = "action=REJECT or dstport in (53, 80)"});
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Lines(*out), ElementsAre(HasSubstr("2001:db8::5 2001:db8:1::9 0 80 6 3 1200"),
                                       HasSubstr("10.0.0.2 10.0.1.7 0 22 6 5 300"),
                                       HasSubstr("10.0.0.3 10.0.1.8 0 3389 6 7 300"),
                                       HasSubstr("192.168.4.4 10.0.0.1 0 53 6 1 64")));
}

TEST(RunQueryTest, StoredFlowLogGivesTheSameRowsWithoutFlows) {
  const Digest digest = MakeDigest(Sample());
  RowSourcePtr stored = NewFlowLogRowSource(ReaderOf(StoredFlowLog(digest)));
  Result<std::string> from_store = Query(*stored, {.filter = "bytes >= 300", .format = "ndjson"});
  Result<std::string> from_memory = Query(digest, {.filter = "bytes >= 300", .format = "ndjson"});
  ASSERT_THAT(from_store, IsOk());
  ASSERT_THAT(from_memory, IsOk());
  std::string expected = *from_memory;
  for (size_t at; (at = expected.find("\"flows\":1")) != std::string::npos;) {
    expected.replace(at, 9, "\"flows\":null");
  }
  EXPECT_EQ(*from_store, expected);
  EXPECT_EQ(Lines(*from_store).size(), 5u);
}

TEST(RunQueryTest, QueriesNeedingFlowsRefuseRowsWithoutThem) {
  const Digest digest = MakeDigest(Sample());
  for (QueryParams params :
       {QueryParams{.filter = "flows > 1"}, QueryParams{.top = "2", .by = "flows"}}) {
    RowSourcePtr stored = NewFlowLogRowSource(ReaderOf(StoredFlowLog(digest)));
    EXPECT_THAT(Query(*stored, params),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("flows")));
    EXPECT_THAT(Query(digest, params), IsOk());
  }
}

TEST(RunQueryTest, TopByBytesIsTheHeadOfTheDigest) {
  const Digest digest = MakeDigest(Sample());
  const std::vector<std::string> all = Lines(EncodeToString(digest, DigestFormat::kFlowLog));
  Result<std::string> top = Query(digest, {.top = "3"});
  ASSERT_THAT(top, IsOk());
  EXPECT_EQ(Lines(*top), std::vector<std::string>(all.begin(), all.begin() + 3));
  Result<std::string> more = Query(digest, {.top = "100"});
  EXPECT_THAT(more, IsOkAndHolds(EncodeToString(digest, DigestFormat::kFlowLog)));
}

TEST(RunQueryTest, TopByPacketsRanksTiesInDigestOrder) {
  std::vector<Rec> recs = Sample();
  recs.push_back(R("10.9.9.9", "10.0.0.1", 0, 8080, 1, Action::kAccept, 7));  // ties 7 packets
  const Digest digest = MakeDigest(recs);
  Result<std::string> top = Query(digest, {.top = "3", .by = "packets"});
  ASSERT_THAT(top, IsOk());
  EXPECT_THAT(Lines(*top), ElementsAre(HasSubstr(" 10.0.1.7 10.0.0.1 443 0 6 60 "),
                                       HasSubstr(" 10.0.0.1 10.0.1.7 0 443 6 10 "),
                                       HasSubstr(" 10.0.0.3 10.0.1.8 0 3389 6 7 300 ")));
}

TEST(RunQueryTest, GroupByCutsAddressesAndSumsValues) {
  std::vector<Rec> recs = Sample();
  recs[0].start = 100;
  recs[0].end = 200;
  recs[2].start = 50;
  recs[2].end = 150;
  const Digest digest = MakeDigest(recs);
  Result<std::string> out = Query(digest, {.group_by = "srcaddr/24", .format = "csv"});
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Lines(*out), ElementsAre(std::string(kCsvColumns),
                                       ",,10.0.1.0/24,,,,,,60,90000,1,1546300800,1546300860",
                                       ",,10.0.0.0/24,,,,,,22,5600,3,50,1546300860",
                                       ",,2001:db8::5,,,,,,3,1200,1,1546300800,1546300860",
                                       ",,192.168.4.0/24,,,,,,1,64,1,1546300800,1546300860"));
  Result<std::string> v6 = Query(digest, {.group_by = "srcaddr/8/16,action", .format = "csv"});
  ASSERT_THAT(v6, IsOk());
  EXPECT_THAT(Lines(*v6), ElementsAre(std::string(kCsvColumns),
                                      ",,10.0.0.0/8,,,,,ACCEPT,70,95000,2,100,1546300860",
                                      ",,2001::/16,,,,,ACCEPT,3,1200,1,1546300800,1546300860",
                                      ",,10.0.0.0/8,,,,,REJECT,12,600,2,50,1546300860",
                                      ",,192.0.0.0/8,,,,,ACCEPT,1,64,1,1546300800,1546300860"));
}

TEST(RunQueryTest, GroupTiesAreInKeyOrderAndTopCuts) {
  const Digest digest = MakeDigest(Sample());
  Result<std::string> out =
      Query(digest, {.group_by = "dstport,protocol", .top = "3", .format = "ndjson"});
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Lines(*out),
              ElementsAre(HasSubstr("\"dstport\":0,\"protocol\":6,\"action\":null,\"packets\":60"),
                          HasSubstr("\"dstport\":443,"), HasSubstr("\"dstport\":80,")));
  Result<std::string> ties =
      Query(digest, {.filter = "bytes=300", .group_by = "dstaddr", .format = "ndjson"});
  ASSERT_THAT(ties, IsOk());
  EXPECT_THAT(Lines(*ties), ElementsAre(HasSubstr("\"dstaddr\":\"10.0.1.7\""),
                                        HasSubstr("\"dstaddr\":\"10.0.1.8\"")));
}

TEST(RunQueryTest, ConversationsMergeBothDirections) {
  const Digest digest = MakeDigest(Sample());
  Result<std::string> out = Query(digest, {.conversation = "true", .format = "csv"});
  ASSERT_THAT(out, IsOk());
  const std::vector<std::string> lines = Lines(*out);
  ASSERT_EQ(lines.size(), 6u);  // header + 5: the 443 pair became one
  EXPECT_EQ(lines[0], std::string(kCsvColumns) + ",src_packets,src_bytes,dst_packets,dst_bytes");
  EXPECT_EQ(lines[1],
            "123456789012,eni-0a1b2c3d,10.0.0.1,10.0.1.7,0,443,6,ACCEPT,70,95000,2,1546300800,"
            "1546300860,10,5000,60,90000");
  // A lower address first even when it was the destination.
  EXPECT_EQ(lines[5],
            "123456789012,eni-0a1b2c3d,10.0.0.1,192.168.4.4,53,0,6,ACCEPT,1,64,1,1546300800,"
            "1546300860,0,0,1,64");
}

TEST(RunQueryTest, ConversationsOfGroupedPrefixes) {
  const Digest digest = MakeDigest(Sample());
  Result<std::string> out =
      Query(digest, {.group_by = "srcaddr/16,dstaddr/16", .conversation = "1", .format = "ndjson"});
  ASSERT_THAT(out, IsOk());
  const std::vector<std::string> lines = Lines(*out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("\"srcaddr\":\"10.0.0.0/16\",\"dstaddr\":\"10.0.0.0/16\""));
  EXPECT_THAT(lines[0], HasSubstr("\"bytes\":95600"));
  EXPECT_THAT(lines[2], HasSubstr("\"srcaddr\":\"10.0.0.0/16\",\"dstaddr\":\"192.168.0.0/16\""));
  EXPECT_THAT(lines[2], HasSubstr("\"src_bytes\":0,\"dst_packets\":1,\"dst_bytes\":64"));
}

TEST(RunQueryTest, GroupingManyRowsSumsEachGroupsRows) {
  // More rows than three of the group table's batches (GroupTable::kBatch, added by its second
  // thread, or by the caller's when that thread cannot start), both directions of each pair:
  // every row reaches its group once.
  std::vector<Rec> recs;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> expected;
  for (uint16_t i = 0; i < 7000; ++i) {
    const std::string a = "10.0.0." + std::to_string(i % 40);
    const std::string b = "10.1.0." + std::to_string(i % 30);
    recs.push_back(R(a, b, i, 443, 100 + i));
    recs.push_back(R(b, a, 443, i, 7 * (i + 1)));
    auto& [bytes, dst_bytes] = expected[{a, b}];
    bytes += 100 + i + 7 * (i + 1);
    dst_bytes += 7 * (i + 1);
  }
  const Digest digest = MakeDigest(recs);
  for (const bool inserter : {true, false}) {
    SCOPED_TRACE(inserter ? "with the inserter thread" : "without threads");
    std::optional<NoNewThreads> no_threads;
    if (!inserter) {
      no_threads.emplace();
      if (!no_threads->active()) GTEST_SKIP() << "cannot stop threads from starting here";
    }
    Result<std::string> out =
        Query(digest, {.group_by = "srcaddr,dstaddr", .conversation = "true", .format = "ndjson"});
    ASSERT_THAT(out, IsOk());
    const std::vector<std::string> lines = Lines(*out);
    ASSERT_EQ(lines.size(), expected.size());  // 120 pairs
    for (const std::string& line : lines) {
      const boost::json::value v = boost::json::parse(line);
      const std::pair<std::string, std::string> pair{std::string(v.at("srcaddr").as_string()),
                                                     std::string(v.at("dstaddr").as_string())};
      ASSERT_TRUE(expected.contains(pair)) << line;
      EXPECT_EQ(v.at("bytes").to_number<uint64_t>(), expected[pair].first) << line;
      EXPECT_EQ(v.at("dst_bytes").to_number<uint64_t>(), expected[pair].second) << line;
    }
  }
}

TEST(RunQueryTest, JsonIsOneDocumentWithTotals) {
  const Digest digest = MakeDigest(Sample());
  Result<std::string> out = Query(digest, {.filter = "protocol=tcp", .top = "2", .format = "json"});
  ASSERT_THAT(out, IsOk());
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(*out, ec);
  ASSERT_FALSE(ec) << *out;
  const boost::json::object& o = doc.as_object();
  EXPECT_EQ(o.at("rows").as_array().size(), 2u);
  EXPECT_EQ(o.at("rows").as_array()[0].at("bytes").as_int64(), 90000);
  const boost::json::object& t = o.at("totals").as_object();
  EXPECT_EQ(t.at("rows_read").as_int64(), 6);
  EXPECT_EQ(t.at("rows").as_int64(), 6);
  EXPECT_EQ(t.at("bytes").as_int64(), 96864);
  EXPECT_EQ(t.at("flows").as_int64(), 6);
  EXPECT_EQ(t.at("by_action").at("REJECT").at("bytes").as_int64(), 600);
  EXPECT_EQ(t.at("by_action").at("REJECT").at("rows").as_int64(), 2);
  EXPECT_EQ(o.at("result_rows").as_int64(), 6);
  EXPECT_EQ(o.at("cut").at("rows").as_int64(), 4);
  EXPECT_EQ(o.at("cut").at("bytes").as_int64(), 96864 - 95000);
  EXPECT_EQ(o.at("query").at("filter").as_string(), "protocol=tcp");
}

TEST(RunQueryTest, SidecarAnswersWhatTheTextCannot) {
  const Digest digest = MakeDigest(Sample());
  StringSink file;
  RowSourcePtr rows = NewDigestRowSource(digest);
  ASSERT_THAT(WriteRowFile(*rows, file), IsOk());
  Result<RowSourcePtr> sidecar = OpenStoredRows(ReaderOf(file.Release()));
  ASSERT_THAT(sidecar, IsOk());
  EXPECT_THAT(Query(**sidecar, {.filter = "flows >= 1", .format = "ndjson"}),
              IsOkAndHolds(EncodeToString(digest, DigestFormat::kNdjson)));
}

TEST(RunQueryTest, CorruptStoredDigestIsDataLoss) {
  const std::string stored = StoredFlowLog(MakeDigest(Sample()));
  RowSourcePtr cut = NewFlowLogRowSource(ReaderOf(stored.substr(0, stored.size() - 5)));
  EXPECT_THAT(Query(*cut, {.filter = "bytes > 0"}), StatusIs(StatusCode::kDataLoss));
  StringSink not_a_digest;
  ByteSinkPtr gz = NewGzipSink(&not_a_digest);
  ASSERT_THAT(gz->Append("hello world\n"), IsOk());
  ASSERT_THAT(gz->Close(), IsOk());
  RowSourcePtr text = NewFlowLogRowSource(ReaderOf(not_a_digest.Release()));
  EXPECT_THAT(Query(*text, {}), StatusIs(StatusCode::kDataLoss, HasSubstr("line 1")));
}

Result<std::string> Diff(const Digest& a, const Digest& b, const QueryParams& params) {
  VPCFLOW_ASSIGN_OR_RETURN(QuerySpec spec, ParseQuery(params, /*diff=*/true));
  RowSourcePtr base = NewDigestRowSource(a);
  RowSourcePtr current = NewDigestRowSource(b);
  StringSink sink;
  VPCFLOW_RETURN_IF_ERROR(RunDiff(*base, *current, spec, sink));
  return sink.Release();
}

TEST(RunDiffTest, NewGoneAndChangedRows) {
  std::vector<Rec> before = Sample();
  std::vector<Rec> after = Sample();
  after.erase(after.begin() + 2);  // 10.0.0.2 -> :22 gone
  after[0].bytes = 7600;           // +52%: changed at 50%
  after[1].bytes = 99000;          // +10%: not changed
  after.push_back(R("10.0.0.66", "10.0.1.7", 0, 22, 9999, Action::kReject));  // new
  Result<std::string> out = Diff(MakeDigest(before), MakeDigest(after), {.format = "csv"});
  ASSERT_THAT(out, IsOk());
  EXPECT_THAT(Lines(*out),
              ElementsAre(std::string(kCsvColumns) + ",change,base_packets,base_bytes",
                          HasSubstr(",10.0.0.66,10.0.1.7,0,22,6,REJECT,1,9999,1,1546300800,"
                                    "1546300860,new,0,0"),
                          HasSubstr(",10.0.0.1,10.0.1.7,0,443,6,ACCEPT,10,7600,1,1546300800,"
                                    "1546300860,changed,10,5000"),
                          HasSubstr(",10.0.0.2,10.0.1.7,0,22,6,REJECT,0,0,0,1546300800,"
                                    "1546300860,gone,5,300")));
  Result<std::string> strict =
      Diff(MakeDigest(before), MakeDigest(after), {.format = "csv", .change = "5"});
  ASSERT_THAT(strict, IsOk());
  EXPECT_EQ(Lines(*strict).size(), 5u);  // the +10% row too
  Result<std::string> top = Diff(MakeDigest(before), MakeDigest(after), {.top = "1"});
  ASSERT_THAT(top, IsOk());
  EXPECT_THAT(Lines(*top), ElementsAre(HasSubstr("\"change\":\"new\"")));
}

TEST(RunDiffTest, GroupedDiffAndJsonCounts) {
  std::vector<Rec> before = Sample();
  std::vector<Rec> after = Sample();
  after.push_back(R("10.0.0.99", "10.0.1.7", 0, 443, 1));  // same /24 groups: no change
  after.push_back(R("172.16.0.1", "10.0.1.7", 0, 443, 1));
  Result<std::string> out = Diff(MakeDigest(before), MakeDigest(after),
                                 {.group_by = "srcaddr/24,dstaddr/24", .format = "json"});
  ASSERT_THAT(out, IsOk());
  boost::json::value doc = boost::json::parse(*out);
  EXPECT_EQ(doc.at("rows").as_array().size(), 1u);
  EXPECT_EQ(doc.at("rows").as_array()[0].at("srcaddr").as_string(), "172.16.0.0/24");
  EXPECT_EQ(doc.at("changes").at("new").as_int64(), 1);
  EXPECT_EQ(doc.at("changes").at("gone").as_int64(), 0);
  EXPECT_EQ(doc.at("base_totals").at("rows").as_int64(), 6);
  EXPECT_EQ(doc.at("totals").at("rows").as_int64(), 8);
}

}  // namespace
}  // namespace vpcflow
