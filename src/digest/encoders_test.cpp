#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/json_parse.hpp"
#include "digest/test_records.hpp"
#include "testing/matchers.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using testing_records::EncodeToString;
using testing_records::MakeDigest;
using testing_records::Rec;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(FlowLogEncoderTest, WritesTheStoredLineFormat) {
  Rec v4;
  v4.srcport = 0;
  v4.dstport = 443;
  v4.packets = 12;
  v4.bytes = 3456;
  v4.start = 1546300800;
  v4.end = 1546300920;
  Rec v6;
  v6.account = "210987654321";
  v6.interface = "eni-6";
  v6.src = "2001:0db8:0000:0000:0000:0000:0000:0001";
  v6.dst = "2a02:cf40::";
  v6.srcport = 5353;
  v6.dstport = 0;
  v6.protocol = 17;
  v6.action = Action::kReject;
  v6.packets = 0;
  v6.bytes = 0;
  EXPECT_EQ(EncodeToString(MakeDigest(std::vector<Rec>{v4, v6}), DigestFormat::kFlowLog),
            "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 0 443 6 12 3456 1546300800 "
            "1546300920 ACCEPT OK\n"
            "2 210987654321 eni-6 2001:db8::1 2a02:cf40:: 5353 0 17 0 0 1546300800 1546300860 "
            "REJECT OK\n");
}

TEST(FlowLogEncoderTest, SortsByBytesDescendingThenLineText) {
  std::vector<Rec> recs(5);
  recs[0].bytes = 10;
  recs[0].src = "10.0.0.2";
  recs[1].bytes = 10;
  recs[1].src = "10.0.0.10";  // textually before 10.0.0.2
  recs[2].bytes = 500;
  recs[2].src = "10.0.0.3";
  recs[3].bytes = 10;
  recs[3].account = "12345678901";  // shorter account: "...901 " < "...9012"
  recs[3].src = "10.0.0.99";
  recs[4].bytes = 11;
  recs[4].src = "10.0.0.4";
  const std::vector<std::string> lines =
      Lines(EncodeToString(MakeDigest(recs), DigestFormat::kFlowLog));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0], ::testing::HasSubstr(" 500 "));
  EXPECT_THAT(lines[1], ::testing::HasSubstr(" 11 "));
  EXPECT_THAT(lines[2], ::testing::StartsWith("2 12345678901 "));
  EXPECT_THAT(lines[3], ::testing::HasSubstr(" 10.0.0.10 "));
  EXPECT_THAT(lines[4], ::testing::HasSubstr(" 10.0.0.2 "));
}

// Digests 6000 rows of the given owners in three huge tie groups and expects the flowlog
// lines in bytes-descending, then plain line-text order.
void ExpectTiesInLineOrder(const std::vector<std::string>& accounts,
                           const std::vector<std::string>& enis) {
  std::mt19937 rng(7);
  std::vector<Rec> recs;
  for (int i = 0; i < 6000; ++i) {
    Rec r;
    r.account = accounts[rng() % accounts.size()];
    r.interface = enis[rng() % enis.size()];
    r.src = "10.0." + std::to_string(rng() % 3) + "." + std::to_string(rng() % 256);
    r.dst = (rng() % 2) ? "2001:db8::" + std::to_string(rng() % 100) : "10.1.1.1";
    r.dstport = static_cast<uint16_t>(rng() % 5);
    r.bytes = rng() % 3;  // three huge tie groups
    r.packets = rng() % 2;
    recs.push_back(r);
  }
  const std::vector<std::string> lines =
      Lines(EncodeToString(MakeDigest(recs), DigestFormat::kFlowLog));
  std::vector<std::string> expected = lines;
  // The bytes column counted from the end (owners here may hold spaces).
  auto bytes_of = [](const std::string& line) {
    size_t end = line.size();
    for (int i = 0; i < 4; ++i) end = line.rfind(' ', end - 1);
    const size_t begin = line.rfind(' ', end - 1) + 1;
    return std::stoull(line.substr(begin, end - begin));
  };
  std::stable_sort(expected.begin(), expected.end(), [&](const auto& a, const auto& b) {
    const uint64_t ba = bytes_of(a), bb = bytes_of(b);
    if (ba != bb) return ba > bb;
    return a < b;
  });
  ASSERT_GT(lines.size(), 1000u);
  EXPECT_EQ(lines, expected);
}

// A tie group large enough to exercise the chunked string sort at several depths, with owners
// that are prefixes of each other and long shared prefixes.
TEST(FlowLogEncoderTest, LargeTieGroupsMatchAPlainSortOfTheLines) {
  ExpectTiesInLineOrder({"1", "12", "123456789012", "123456789012345678"},
                        {"eni-", "eni-0", "eni-0123456789abcdef", "-"});
}

// Ties are ordered by owner rank first when that gives the line order; owners with spaces
// (where "account interface " of one may be a prefix of another's) or with bytes below the
// space must still come out in plain line order.
TEST(FlowLogEncoderTest, TiesOfOwnersWithSpacesOrControlBytesFollowTheLineText) {
  ExpectTiesInLineOrder({"1", "1\t", "12"}, {"eni", "eni\x01", "eni-0"});
  ExpectTiesInLineOrder({"1", "1 2", "12"}, {"eni", "eni 1", "eni 10.0.1.1"});
}

TEST(NdjsonEncoderTest, WritesOneObjectPerRow) {
  Rec r;
  r.account = "acct\"q";
  r.src = "2001:db8::1";
  r.srcport = 40000;
  r.dstport = 0;
  r.packets = 3;
  r.bytes = 99;
  EXPECT_EQ(EncodeToString(MakeDigest(std::vector<Rec>{r}), DigestFormat::kNdjson),
            "{\"account_id\":\"acct\\\"q\",\"interface_id\":\"eni-0a1b2c3d\","
            "\"srcaddr\":\"2001:db8::1\",\"dstaddr\":\"10.0.0.2\",\"srcport\":40000,"
            "\"dstport\":0,\"protocol\":6,\"action\":\"ACCEPT\",\"packets\":3,\"bytes\":99,"
            "\"flows\":1,\"start\":1546300800,\"end\":1546300860}\n");
}

TEST(NdjsonEncoderTest, EveryLineIsValidJsonEvenForOddOwners) {
  Rec r;
  r.account = std::string("a\\b\x01\xff", 5);
  const std::string text = EncodeToString(MakeDigest(std::vector<Rec>{r}), DigestFormat::kNdjson);
  Result<boost::json::value> j = ParseJsonStrict(Lines(text).at(0));
  ASSERT_OK(j);
  // Invalid UTF-8 becomes U+FFFD, as in every JSON the project writes (common/json_string).
  EXPECT_EQ(j->at("account_id").as_string(), "a\\b\x01\xef\xbf\xbd");
  EXPECT_EQ(j->at("flows").to_number<uint64_t>(), 1u);
}

// Rows whose owner escapes to more than a writer's in-place room (34000 control bytes are
// 204000 bytes of JSON): each is written whole wherever it falls in the output's chunks.
TEST(NdjsonEncoderTest, OwnersLongerThanTheWritersRoomAreWrittenWhole) {
  std::vector<Rec> recs;
  for (int i = 0; i < 40; ++i) {
    Rec r;
    r.interface = std::string(34000, '\x01') + std::to_string(i);
    r.bytes = static_cast<uint64_t>(i);
    recs.push_back(r);
  }
  const std::vector<std::string> lines =
      Lines(EncodeToString(MakeDigest(recs), DigestFormat::kNdjson));
  ASSERT_EQ(lines.size(), 40u);
  for (size_t i = 0; i < lines.size(); ++i) {
    Result<boost::json::value> j = ParseJsonStrict(lines[i]);
    ASSERT_OK(j);
    EXPECT_EQ(j->at("interface_id").as_string(),
              std::string(34000, '\x01') + std::to_string(39 - i));
  }
}

// Issue 13: a valid "é" came out as "Ã©" on the service's ndjson path. Every ndjson writer (the
// CLI, the service's re-encoding, queries) goes through PutNdjsonMembers: valid UTF-8 passes.
TEST(NdjsonEncoderTest, ValidUtf8PassesUnchanged) {
  Rec r;
  r.interface = "eni-caf\xc3\xa9-\xe2\x98\x83";
  const std::string text = EncodeToString(MakeDigest(std::vector<Rec>{r}), DigestFormat::kNdjson);
  EXPECT_THAT(text, ::testing::HasSubstr("\"interface_id\":\"eni-caf\xc3\xa9-\xe2\x98\x83\""));
}

TEST(CsvEncoderTest, WritesHeaderThenRowsInTheSameOrder) {
  Rec big;
  big.bytes = 1000;
  Rec odd;
  odd.interface = "eni,\"x\"";
  odd.action = Action::kReject;
  odd.bytes = 1;
  EXPECT_EQ(EncodeToString(MakeDigest(std::vector<Rec>{odd, big}), DigestFormat::kCsv),
            "account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,action,packets,"
            "bytes,flows,start,end\n"
            "123456789012,eni-0a1b2c3d,10.0.0.1,10.0.0.2,0,443,6,ACCEPT,1,1000,1,1546300800,"
            "1546300860\n"
            "123456789012,\"eni,\"\"x\"\"\",10.0.0.1,10.0.0.2,0,443,6,REJECT,1,1,1,1546300800,"
            "1546300860\n");
}

TEST(EncoderTest, EmptyDigests) {
  for (const Digest& d : {Digest(), MakeDigest(std::vector<Rec>{})}) {
    EXPECT_EQ(EncodeToString(d, DigestFormat::kFlowLog), "");
    EXPECT_EQ(EncodeToString(d, DigestFormat::kNdjson), "");
    EXPECT_EQ(EncodeToString(d, DigestFormat::kCsv),
              "account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,action,packets,"
              "bytes,flows,start,end\n");
  }
}

TEST(EncoderTest, AllFormatsAndForEachRowShareTheOrder) {
  std::vector<Rec> recs;
  for (int i = 0; i < 300; ++i) {
    Rec r;
    r.dstport = static_cast<uint16_t>(i);
    r.bytes = static_cast<uint64_t>(i % 4);
    recs.push_back(r);
  }
  const Digest digest = MakeDigest(recs);
  const auto flow = Lines(EncodeToString(digest, DigestFormat::kFlowLog));
  const auto nd = Lines(EncodeToString(digest, DigestFormat::kNdjson));
  const auto csv = Lines(EncodeToString(digest, DigestFormat::kCsv));
  std::vector<uint32_t> ports;
  EXPECT_TRUE(digest.ForEachRow([&](const DigestRow& r) { ports.push_back(r.dstport); }).ok());
  ASSERT_EQ(flow.size(), 300u);
  ASSERT_EQ(nd.size(), 300u);
  ASSERT_EQ(csv.size(), 301u);
  ASSERT_EQ(ports.size(), 300u);
  for (size_t i = 0; i < flow.size(); ++i) {
    const std::string port = std::to_string(ports[i]);
    EXPECT_THAT(flow[i], ::testing::HasSubstr(" 0 " + port + " 6 ")) << i;
    EXPECT_THAT(nd[i], ::testing::HasSubstr("\"dstport\":" + port + ",")) << i;
    EXPECT_THAT(csv[i + 1], ::testing::HasSubstr(",0," + port + ",6,")) << i;
  }
}

TEST(EncoderTest, OutputLargerThanOneChunkIsComplete) {
  std::vector<Rec> recs;
  for (int i = 0; i < 30000; ++i) {
    Rec r;
    r.dstport = static_cast<uint16_t>(i);
    r.bytes = static_cast<uint64_t>(i);
    recs.push_back(r);
  }
  const std::string text = EncodeToString(MakeDigest(recs), DigestFormat::kNdjson);
  EXPECT_GT(text.size(), size_t{2} << 20);
  const auto lines = Lines(text);
  ASSERT_EQ(lines.size(), 30000u);
  EXPECT_THAT(lines.front(), ::testing::HasSubstr("\"bytes\":29999,"));
  EXPECT_THAT(lines.back(), ::testing::HasSubstr("\"bytes\":0,"));
}

class FailingSink final : public ByteSink {
 public:
  Status Append(std::string_view) override {
    ++appends;
    return UnavailableError("disk gone");
  }
  Status Close() override { return OkStatus(); }
  int appends = 0;
};

TEST(EncoderTest, ReturnsTheSinkErrorAndStopsWriting) {
  std::vector<Rec> recs;
  for (int i = 0; i < 40000; ++i) {
    Rec r;
    r.dstport = static_cast<uint16_t>(i);
    recs.push_back(r);
  }
  const Digest digest = MakeDigest(recs);
  for (DigestFormat f : {DigestFormat::kFlowLog, DigestFormat::kNdjson, DigestFormat::kCsv}) {
    FailingSink sink;
    EXPECT_THAT(digest.Encode(f, sink), StatusIs(StatusCode::kUnavailable));
    EXPECT_EQ(sink.appends, 1);
  }
}

}  // namespace
}  // namespace vpcflow
