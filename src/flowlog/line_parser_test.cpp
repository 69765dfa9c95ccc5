#include "flowlog/line_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace vpcflow {
namespace {

std::string Text(const IpAddress& a) {
  char buf[kMaxIpTextLength];
  return std::string(buf, FormatIpAddress(a, buf));
}

FlowFormat Header(std::string_view header) {
  auto f = FlowFormat::FromHeader(header);
  EXPECT_TRUE(f.has_value()) << header;
  return f ? *f : FlowFormat({});
}

LineOutcome Parse(std::string_view line, const FlowFormat& f = FlowFormat::Default()) {
  FlowRecord r;
  return ParseFlowLine(f, line, &r);
}

// Replaces the `index`-th space-separated token of a single-spaced line.
std::string WithToken(std::string_view line, size_t index, std::string_view value) {
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    tokens.emplace_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  tokens.at(index) = std::string(value);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

// The record as one line, "account interface src dst sport dport proto packets bytes start end
// action", or "outcome <n>" when the line is not used, by ParseFlowLine (`build` unset), or by
// one build of the default format's path.
std::string RecordText(LineOutcome outcome, const FlowRecord& r) {
  if (outcome != LineOutcome::kUsed) return "outcome " + std::to_string(static_cast<int>(outcome));
  return std::string(r.account_id) + " " + std::string(r.interface_id) + " " + Text(r.srcaddr) +
         " " + Text(r.dstaddr) + " " + std::to_string(r.srcport) + " " + std::to_string(r.dstport) +
         " " + std::to_string(r.protocol) + " " + std::to_string(r.packets) + " " +
         std::to_string(r.bytes) + " " + std::to_string(r.start) + " " + std::to_string(r.end) +
         " " + std::string(ActionName(r.action));
}
std::string Record(const FlowFormat& f, std::string_view line) {
  FlowRecord r;
  const LineOutcome outcome = ParseFlowLine(f, line, &r);
  return RecordText(outcome, r);
}
std::string Record(DefaultParserBuild build, std::string_view line) {
  FlowRecord r;
  const LineOutcome outcome = ParseFlowLineDefaultBuild(build, line, &r);
  return RecordText(outcome, r);
}
// The reference: the path for any format, compiled without SSSE3.
std::string Reference(const FlowFormat& f, std::string_view line) {
  FlowRecord r;
  const LineOutcome outcome = ParseFlowLineAnyFormat(f, line, &r);
  return RecordText(outcome, r);
}

// Every build of the default format's path this processor runs, and ParseFlowLine, give the
// reference's outcome and record for `line`.
void ExpectEveryBuildAsReference(std::string_view line) {
  const std::string expected = Reference(FlowFormat::Default(), line);
  ASSERT_EQ(Record(FlowFormat::Default(), line), expected) << "'" << line << "'";
  for (DefaultParserBuild build :
       {DefaultParserBuild::kSse2, DefaultParserBuild::kSsse3, DefaultParserBuild::kAvx512}) {
    if (DefaultParserBuildRuns(build)) {
      ASSERT_EQ(Record(build, line), expected)
          << "build " << static_cast<int>(build) << " '" << line << "'";
    }
  }
}

std::string Record(std::string_view line) { return Record(FlowFormat::Default(), line); }

constexpr std::string_view kAccepted =
    "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
    "1418530010 1418530070 ACCEPT OK";

// AWS VPC user guide, "Flow log record examples": accepted and rejected traffic.
TEST(LineParserTest, AwsDefaultFormatAcceptedAndRejected) {
  EXPECT_EQ(Record(kAccepted),
            "123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
            "1418530010 1418530070 ACCEPT");
  EXPECT_EQ(Record("2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 "
                   "4249 1418530010 1418530070 REJECT OK"),
            "123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 "
            "1418530010 1418530070 REJECT");
}

TEST(LineParserTest, AwsNoDataAndSkipData) {
  EXPECT_EQ(Parse("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - "
                  "NODATA"),
            LineOutcome::kStatusNoData);
  EXPECT_EQ(Parse("2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - "
                  "SKIPDATA"),
            LineOutcome::kStatusSkipData);
}

// AWS "Security group and network ACL rules": ICMP, ports 0.
TEST(LineParserTest, AwsIcmpSecurityGroupExample) {
  EXPECT_EQ(Record("2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 "
                   "1432917027 1432917142 ACCEPT OK"),
            "123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 "
            "1432917027 1432917142 ACCEPT");
  EXPECT_EQ(Record("2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 "
                   "1432917094 1432917142 REJECT OK"),
            "123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 "
            "1432917094 1432917142 REJECT");
}

TEST(LineParserTest, AwsIpv6Example) {
  EXPECT_EQ(Record("2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
                   "2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 "
                   "1477913820 ACCEPT OK"),
            "123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 "
            "2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 "
            "ACCEPT");
  EXPECT_EQ(Record("2 123456789010 eni-1 2A02:CF40:0000:0000:0000:0000:0000:0001 2a02:cf40:: 443 "
                   "50000 6 1 2 100 160 ACCEPT OK"),
            "123456789010 eni-1 2a02:cf40::1 2a02:cf40:: 443 50000 6 1 2 100 160 ACCEPT");
}

// AWS "TCP flag sequence" examples (version 3), including the documented double space.
TEST(LineParserTest, AwsVersion3TcpFlagExamples) {
  FlowFormat f = Header(
      "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
      "dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags "
      "log-status");
  EXPECT_EQ(f.version(), 3);
  // bytes comes before packets in this format.
  EXPECT_EQ(Record(f,
                   "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 "
                   "eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 "
                   "52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK"),
            "123456789010 eni-1235b8ca123456789 52.213.180.42 10.0.0.62 43416 5001 6 8 568 "
            "1566848875 1566848933 ACCEPT");
  EXPECT_EQ(Record(f,
                   "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 "
                   "eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638  "
                   "10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK"),
            "123456789010 eni-1235b8ca123456789 10.0.0.62 52.213.180.42 5001 43638 6 14 967 "
            "1566933133 1566933193 ACCEPT");
}

// AWS "Traffic through a NAT gateway": no ports, protocol or times in the format.
TEST(LineParserTest, AwsNatGatewayExampleIsIncomplete) {
  FlowFormat f = Header("instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr");
  EXPECT_EQ(Parse("- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5", f),
            LineOutcome::kIncomplete);
  // The example's trailing "#comment" words make the token count wrong.
  EXPECT_EQ(Parse("i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 "
                  "203.0.113.5 #Traffic from the source instance to host on the internet",
                  f),
            LineOutcome::kBadTokenCount);
}

// AWS "Traffic through a transit gateway" (version 3 format without start/end).
TEST(LineParserTest, AwsTransitGatewayVpcExampleIsIncomplete) {
  FlowFormat f = Header(
      "version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport "
      "dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status");
  EXPECT_EQ(Parse("3 eni-33333333333333333 123456789010 vpc-abcdefab012345678 "
                  "subnet-22222222bbbbbbbbb i-01234567890123456 10.20.33.164 10.40.2.236 39812 80 "
                  "6 3 IPv4 10.20.33.164 10.40.2.236 ACCEPT OK",
                  f),
            LineOutcome::kIncomplete);
}

// AWS "Service name, traffic path, and flow direction" (version 5).
TEST(LineParserTest, AwsVersion5TrafficPathExample) {
  FlowFormat f = Header(
      "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id "
      "vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id "
      "action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service "
      "traffic-path flow-direction log-status");
  EXPECT_EQ(f.version(), 5);
  EXPECT_EQ(Record(f,
                   "5 52.95.128.179 10.0.0.71 80 34210 6 1616729292 1616729349 IPv4 14 15044 "
                   "123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
                   "i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - "
                   "ACCEPT 19 52.95.128.179 10.0.0.71 S3 - - ingress OK"),
            "123456789012 eni-1235b8ca123456789 52.95.128.179 10.0.0.71 80 34210 6 14 15044 "
            "1616729292 1616729349 ACCEPT");
  EXPECT_EQ(Record(f,
                   "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 "
                   "123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 "
                   "i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - "
                   "ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK"),
            "123456789012 eni-1235b8ca123456789 10.0.0.71 52.95.128.179 34210 80 6 7 471 "
            "1616729292 1616729349 ACCEPT");
}

// Version 6: the Transit Gateway default format (all its fields, as its Athena table lists
// them) has no action and no interface-id.
TEST(LineParserTest, TransitGatewayVersion6Record) {
  FlowFormat f = Header(
      "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id "
      "tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id "
      "tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr "
      "srcport dstport protocol packets bytes start end log-status type packets-lost-no-route "
      "packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region "
      "flow-direction pkt-src-aws-service pkt-dst-aws-service");
  EXPECT_EQ(f.column_count(), 36u);
  EXPECT_EQ(f.version(), 6);
  for (Field field : f.columns()) EXPECT_NE(field, Field::kUnknown);
  EXPECT_EQ(Record(f,
                   "6 TransitGateway 123456789010 tgw-0123456789abcdef0 "
                   "tgw-attach-0123456789abcdef0 123456789010 210987654321 vpc-0a1 vpc-0b2 "
                   "subnet-0a1 subnet-0b2 eni-0a1 eni-0b2 use1-az1 use1-az2 "
                   "tgw-attach-0fedcba9876543210 10.0.1.5 10.1.2.6 49152 443 6 10 5000 "
                   "1700000000 1700000060 OK IPv4 0 0 0 0 18 us-east-1 egress - -"),
            "123456789010 - 10.0.1.5 10.1.2.6 49152 443 6 10 5000 1700000000 1700000060 -");
}

// Versions 7 to 11 add metadata columns (AWS documents no sample records for them).
TEST(LineParserTest, Versions7To11Records) {
  FlowFormat f = Header(
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
      "start end action log-status ecs-cluster-name ecs-task-id reject-reason resource-id "
      "encryption-status instance-tag interface-type next-hop-vpc-id");
  EXPECT_EQ(f.version(), 11);
  EXPECT_EQ(Record(f,
                   "11 123456789010 eni-0a1 10.0.0.1 10.0.0.2 443 50000 6 3 300 1700000000 "
                   "1700000030 ACCEPT OK my-cluster 0123abcd - vpc-0a1 2 web - -"),
            "123456789010 eni-0a1 10.0.0.1 10.0.0.2 443 50000 6 3 300 1700000000 1700000030 "
            "ACCEPT");
  // Version 8: block-public-access rejects carry no counts.
  EXPECT_EQ(Record(f,
                   "11 123456789010 eni-0a1 203.0.113.9 10.0.0.2 51515 22 6 - - 1700000000 "
                   "1700000030 REJECT OK - - BPA vpc-0a1 0 - - -"),
            "123456789010 eni-0a1 203.0.113.9 10.0.0.2 51515 22 6 0 0 1700000000 1700000030 "
            "REJECT");
}

TEST(LineParserTest, CustomOrderAndSubset) {
  FlowFormat f = Header("end start protocol dstport srcport dstaddr srcaddr");
  EXPECT_EQ(Record(f, "200 100 17 53 40000 10.0.0.2 10.0.0.1"),
            "- - 10.0.0.1 10.0.0.2 40000 53 17 0 0 100 200 -");
}

TEST(LineParserTest, UnknownColumnsAreCountedButIgnored) {
  FlowFormat f = Header("srcaddr future-one dstaddr srcport dstport protocol start end future-two");
  EXPECT_EQ(Record(f, "10.0.0.1 whatever 10.0.0.2 1 2 6 10 20 x"),
            "- - 10.0.0.1 10.0.0.2 1 2 6 0 0 10 20 -");
  EXPECT_EQ(Parse("10.0.0.1 10.0.0.2 1 2 6 10 20 x", f), LineOutcome::kBadTokenCount);
}

constexpr std::string_view kAcceptedRecord =
    "123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
    "1418530010 1418530070 ACCEPT";

TEST(LineParserTest, SpacesCarriageReturnAndBlankLines) {
  EXPECT_EQ(Record("  2  123456789010 eni-1235b8ca123456789   172.31.16.139 172.31.16.21 20641 22 "
                   "6 20 4249 1418530010 1418530070 ACCEPT OK   "),
            kAcceptedRecord);
  EXPECT_EQ(Record(std::string(kAccepted) + "\r"), kAcceptedRecord);
  EXPECT_EQ(Record(std::string(kAccepted) + " \r"), kAcceptedRecord);
  EXPECT_EQ(Parse(""), LineOutcome::kBlank);
  EXPECT_EQ(Parse("     "), LineOutcome::kBlank);
  EXPECT_EQ(Parse("\r"), LineOutcome::kBlank);
  // A '\r' not at the end and a tab are parts of tokens.
  EXPECT_EQ(Parse(std::string(kAccepted) + "\r\r"), LineOutcome::kStatusOther);
  EXPECT_EQ(Parse(WithToken(kAccepted, 3, "172.31.16.139\t")), LineOutcome::kBadAddress);
}

TEST(LineParserTest, DashInEachDefaultField) {
  const std::string incomplete = "outcome " + std::to_string(int(LineOutcome::kIncomplete));
  const std::string expected[14] = {
      std::string(kAcceptedRecord),  // version
      "- eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 "
      "1418530070 ACCEPT",  // account-id
      "123456789010 - 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 "
      "ACCEPT",  // interface-id
      incomplete,
      incomplete,
      incomplete,
      incomplete,
      incomplete,  // addresses, ports, protocol
      "123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 0 4249 "
      "1418530010 1418530070 ACCEPT",  // packets
      "123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 0 1418530010 "
      "1418530070 ACCEPT",  // bytes
      incomplete,
      incomplete,  // start, end
      "123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
      "1418530010 1418530070 -",     // action
      std::string(kAcceptedRecord),  // log-status: '-' is no value
  };
  for (size_t i = 0; i < 14; ++i) {
    std::string line = WithToken(kAccepted, i, "-");
    EXPECT_EQ(Record(line), expected[i]) << line;
  }
}

TEST(LineParserTest, EveryOutcome) {
  EXPECT_EQ(Parse(kAccepted), LineOutcome::kUsed);
  EXPECT_EQ(Parse(""), LineOutcome::kBlank);
  EXPECT_EQ(Parse("2 123456789010"), LineOutcome::kBadTokenCount);
  EXPECT_EQ(Parse(std::string(kAccepted) + " extra"), LineOutcome::kBadTokenCount);
  EXPECT_EQ(Parse(WithToken(kAccepted, 5, "http")), LineOutcome::kBadNumber);
  EXPECT_EQ(Parse(WithToken(kAccepted, 3, "172.31.16")), LineOutcome::kBadAddress);
  EXPECT_EQ(Parse(WithToken(kAccepted, 12, "DROP")), LineOutcome::kBadValue);
  EXPECT_EQ(Parse(WithToken(kAccepted, 13, "NODATA")), LineOutcome::kStatusNoData);
  EXPECT_EQ(Parse(WithToken(kAccepted, 13, "SKIPDATA")), LineOutcome::kStatusSkipData);
  EXPECT_EQ(Parse(WithToken(kAccepted, 13, "ok")), LineOutcome::kStatusOther);
  EXPECT_EQ(Parse(WithToken(kAccepted, 13, "PARTIAL")), LineOutcome::kStatusOther);
  EXPECT_EQ(Parse(WithToken(kAccepted, 4, "-")), LineOutcome::kIncomplete);
}

TEST(LineParserTest, MissingRequiredColumnIsIncomplete) {
  for (std::string_view missing :
       {"srcaddr", "dstaddr", "srcport", "dstport", "protocol", "start", "end"}) {
    std::string header;
    std::string line;
    const std::pair<std::string_view, std::string_view> all[] = {
        {"srcaddr", "10.0.0.1"}, {"dstaddr", "10.0.0.2"}, {"srcport", "1"}, {"dstport", "2"},
        {"protocol", "6"},       {"start", "10"},         {"end", "20"}};
    for (auto [name, value] : all) {
      if (name == missing) continue;
      header += std::string(name) + " ";
      line += std::string(value) + " ";
    }
    EXPECT_EQ(Parse(line, Header(header)), LineOutcome::kIncomplete) << missing;
  }
}

TEST(LineParserTest, CheckOrder) {
  // Token count before status.
  EXPECT_EQ(Parse("2 123456789010 eni-1 - - - - - - - 1431280876 - NODATA"),
            LineOutcome::kBadTokenCount);
  // Status before incomplete and values.
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 13, "NODATA"), 3, "-")),
            LineOutcome::kStatusNoData);
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 13, "SKIPDATA"), 5, "x")),
            LineOutcome::kStatusSkipData);
  // Incomplete before bad values.
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 3, "bad"), 6, "-")), LineOutcome::kIncomplete);
  // Among values: address, then numbers, then action.
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 3, "bad"), 5, "x")), LineOutcome::kBadAddress);
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 12, "X"), 9, "x")), LineOutcome::kBadNumber);
}

// The record's fields from `first` on (0 = account), or the outcome.
std::string RecordFrom(std::string_view line, size_t first) {
  std::string record = Record(line);
  if (record.starts_with("outcome")) return record;
  size_t pos = 0;
  for (size_t i = 0; i < first; ++i) pos = record.find(' ', pos) + 1;
  return record.substr(pos);
}

TEST(LineParserTest, PortAndProtocolBounds) {
  EXPECT_EQ(RecordFrom(WithToken(WithToken(kAccepted, 5, "65535"), 7, "255"), 4),
            "65535 22 255 20 4249 1418530010 1418530070 ACCEPT");
  EXPECT_EQ(RecordFrom(WithToken(WithToken(kAccepted, 5, "00080"), 7, "0"), 4),
            "80 22 0 20 4249 1418530010 1418530070 ACCEPT");
  EXPECT_EQ(RecordFrom(WithToken(kAccepted, 6, "65535"), 5),
            "65535 6 20 4249 1418530010 1418530070 ACCEPT");
  const std::pair<size_t, const char*> bad[] = {
      {5, "65536"}, {6, "65536"}, {6, "99999999999999999999999"}, {7, "256"}, {5, "-1"}, {5, "+1"},
      {5, "1.0"},   {5, "0x10"}};
  for (auto [index, value] : bad) {
    EXPECT_EQ(Parse(WithToken(kAccepted, index, value)), LineOutcome::kBadNumber)
        << index << " '" << value << "'";
  }
}

TEST(LineParserTest, CountOverflow) {
  EXPECT_EQ(RecordFrom(WithToken(kAccepted, 9, "18446744073709551615"), 7),
            "20 18446744073709551615 1418530010 1418530070 ACCEPT");
  EXPECT_EQ(RecordFrom(WithToken(kAccepted, 8, "00000000000000000007"), 7),
            "7 4249 1418530010 1418530070 ACCEPT");  // 20 digits with leading zeros
  for (auto [index, value] : std::vector<std::pair<size_t, const char*>>{
           {9, "18446744073709551616"},
           {9, "99999999999999999999"},
           {8, "184467440737095516150"},
           {8, "000000000000000000007"},  // more than 20 digits, even as leading zeros
           {8, "12a"}}) {
    EXPECT_EQ(Parse(WithToken(kAccepted, index, value)), LineOutcome::kBadNumber) << value;
  }
}

TEST(LineParserTest, MillisecondNormalisation) {
  auto times = [](const char* start, const char* end) {
    return RecordFrom(WithToken(WithToken(kAccepted, 10, start), 11, end), 9);
  };
  EXPECT_EQ(times("1418530010123", "1418530070999"), "1418530010 1418530070 ACCEPT");
  // The threshold itself is seconds; one above is milliseconds.
  EXPECT_EQ(times("100000000000", "100000000000"), "100000000000 100000000000 ACCEPT");
  EXPECT_EQ(times("100", "100000000001"), "100 100000000 ACCEPT");
  // Each value on its own: a start in ms and an end in seconds compare after normalisation.
  EXPECT_EQ(times("1418530010000", "1418530070"), "1418530010 1418530070 ACCEPT");
  // The largest uint64 is milliseconds and fits int64 after division.
  EXPECT_EQ(times("0", "18446744073709551615"), "0 18446744073709551 ACCEPT");
  EXPECT_EQ(Parse(WithToken(kAccepted, 11, "18446744073709551616")), LineOutcome::kBadNumber);
}

TEST(LineParserTest, EndBeforeStartIsBadNumber) {
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 10, "200"), 11, "199")), LineOutcome::kBadNumber);
  EXPECT_EQ(Parse(WithToken(WithToken(kAccepted, 10, "200"), 11, "200")), LineOutcome::kUsed);
}

TEST(LineParserTest, TooManyTokensForTheStackArray) {
  std::string line(kAccepted);
  for (size_t i = 0; i < kMaxLineColumns * 2; ++i) line += " x";
  EXPECT_EQ(Parse(line), LineOutcome::kBadTokenCount);
  // Formats wider than kMaxLineColumns: every line is a bad token count, none overflows.
  for (size_t width : {kMaxLineColumns + 1, kMaxLineColumns + 5}) {
    std::vector<Field> wide(width, Field::kUnknown);
    wide[0] = Field::kSrcAddr;
    FlowFormat f(wide);
    std::string exact = "10.0.0.1";
    for (size_t i = 1; i < wide.size(); ++i) exact += " y";
    EXPECT_EQ(Parse(exact, f), LineOutcome::kBadTokenCount) << width;
  }
  // Exactly kMaxLineColumns columns still parse.
  std::vector<Field> widest(kMaxLineColumns, Field::kUnknown);
  const Field required[] = {Field::kSrcAddr,  Field::kDstAddr, Field::kSrcPort, Field::kDstPort,
                            Field::kProtocol, Field::kStart,   Field::kEnd};
  std::string values[] = {"10.0.0.1", "10.0.0.2", "1", "2", "6", "10", "20"};
  std::string widest_line;
  for (size_t i = 0; i < kMaxLineColumns; ++i) {
    size_t slot = kMaxLineColumns - 7;
    if (i >= slot) widest[i] = required[i - slot];
    widest_line += (i ? " " : "") + (i >= slot ? values[i - slot] : std::string("z"));
  }
  EXPECT_EQ(Record(FlowFormat(widest), widest_line), "- - 10.0.0.1 10.0.0.2 1 2 6 0 0 10 20 -");
}

// Numbers are read eight bytes at a time where the line allows: compare with std::from_chars
// for random tokens in the middle of a line and near its end (where fewer bytes follow).
TEST(LineParserTest, NumbersAgreeWithFromChars) {
  FlowFormat middle = Header("bytes srcaddr dstaddr srcport dstport protocol start end");
  FlowFormat last = Header("srcaddr dstaddr srcport dstport protocol start end bytes");
  const std::string rest = "10.0.0.1 10.0.0.2 1 2 6 10 20";
  std::mt19937 rng(2024);
  const char alphabet[] = "0123456789012345678901234567890123456789/:a.+-\x80\xff";
  for (int i = 0; i < 50000; ++i) {
    std::string token;
    size_t len = 1 + rng() % 22;
    bool digits_only = rng() % 2 == 0;
    for (size_t j = 0; j < len; ++j) {
      token += digits_only ? static_cast<char>('0' + rng() % 10)
                           : alphabet[rng() % (sizeof(alphabet) - 1)];
    }
    if (token == "-") continue;
    uint64_t expected = 0;
    auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), expected);
    bool valid = ec == std::errc() && ptr == token.data() + token.size() && token.size() <= 20;
    // In the middle, at the very end, and last followed by 1-17 spaces: from 0 to 17 bytes
    // after the token may be read, around the 8 and 16 bytes of the whole-word loads.
    for (int place = 0; place < 3; ++place) {
      const bool at_end = place > 0;
      FlowRecord r;
      std::string line = at_end ? rest + " " + token : token + " " + rest;
      if (place == 2) line += std::string(1 + rng() % 17, ' ');
      LineOutcome outcome = ParseFlowLine(at_end ? last : middle, line, &r);
      ASSERT_EQ(outcome, valid ? LineOutcome::kUsed : LineOutcome::kBadNumber) << line;
      if (valid) {
        ASSERT_EQ(r.bytes, expected) << line;
      }
    }
  }
}

// The default format's own path (ParseFlowLine, and its build without SSSE3) against the path
// for any format on random lines made of the edges of each column: every outcome and every
// field must agree. Tokens of
// varying length ahead of each field move it across 8- and 16-byte boundaries of the line.
TEST(LineParserTest, DefaultPathAgreesWithAnyFormatPath) {
  std::mt19937_64 rng(14);
  auto pick = [&](const std::vector<std::string>& choices) {
    return choices[rng() % choices.size()];
  };
  auto digits = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + rng() % 10);
    return s;
  };
  auto octet = [&]() {
    switch (rng() % 8) {
      case 0:
        return std::string("256");
      case 1:
        return std::string("0") + std::to_string(rng() % 100);  // leading zero
      case 2:
        return std::to_string(rng() % 1000 + 1000);  // four digits
      case 3:
        return std::string("");
      default:
        return std::to_string(rng() % 256);
    }
  };
  auto address = [&]() {
    switch (rng() % 16) {
      case 0:
        return pick({"-", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4\t",
                     "001.002.003.004", "a.b.c.d", "1..2.3", "1.2.3.4:80"});
      case 1:
        return octet() + "." + octet() + "." + octet() + "." + octet();
      default:
        return std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
               std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
    }
  };
  // Any number of digits (leading zeros, 19 and 20 digits, overflow), or a non-number.
  auto number = [&](uint64_t typical) {
    switch (rng() % 16) {
      case 0:
        return digits(1 + rng() % 22);
      case 1:
        return std::string(rng() % 18, '0') + std::to_string(rng() % typical);
      case 2:
        return pick({"-", "", "+1", "1-", "0x1", "1.0", "18446744073709551615",
                     "18446744073709551616", "99999999999999999999", "9999999999999999999",
                     "00000000000000000001", "000000000000000000001", "12345678\t", "1\r"});
      default:
        return std::to_string(rng() % typical);
    }
  };
  // A start and an end: mostly in order, in seconds or milliseconds, or any number.
  auto times = [&]() -> std::pair<std::string, std::string> {
    const uint64_t start = 1'700'000'000 + rng() % 100;
    const uint64_t end = start + rng() % 100;
    switch (rng() % 12) {
      case 0:
        return {number(100), number(1'000'000'000'000)};
      case 1:
        return {std::to_string(start * 1000 + rng() % 1000), std::to_string(end * 1000)};
      case 2:
        return {std::to_string(end), std::to_string(start)};  // end before start, or equal
      default:
        return {std::to_string(start), std::to_string(end)};
    }
  };
  const FlowFormat& f = FlowFormat::Default();
  // A custom format: the default's columns in another order, with two more.
  const std::vector<size_t> order = {13, 3, 11, 0, 5, 14, 9, 1, 7, 12, 2, 15, 4, 6, 10, 8};
  const std::vector<std::string> names = {"version", "account-id", "interface-id", "srcaddr",
                                          "dstaddr", "srcport",    "dstport",      "protocol",
                                          "packets", "bytes",      "start",        "end",
                                          "action",  "log-status", "vpc-id",       "tcp-flags"};
  std::string header;
  for (size_t c : order) header += (header.empty() ? "" : " ") + names[c];
  const std::optional<FlowFormat> custom = FlowFormat::FromHeader(header);
  ASSERT_TRUE(custom.has_value());
  size_t used = 0;
  for (int i = 0; i < 200000; ++i) {
    std::vector<std::string> tokens = {
        pick({"2", "-", "3", "x"}),
        rng() % 8 == 0 ? "-" : digits(rng() % 24),
        pick({"-", "eni-", "eni-0", "eni-0123456789abcdef0", "eni-1235b8ca123456789"}),
        address(),
        address(),
        number(70'000),
        number(70'000),
        number(300),
        number(1000),
        number(10'000'000),
        "start",
        "end",
        rng() % 4 != 0 ? pick({"ACCEPT", "REJECT"})
                       : pick({"-", "accept", "ACCEPTED", "REJEC", "ACCEPT\t", "ACCEPt", ""}),
        rng() % 4 != 0 ? "OK"
                       : pick({"-", "NODATA", "SKIPDATA", "ok", "OKAY", "O", "NODATA\t",
                               "SKIPDATAX", "SKIPDATa", ""}),
    };
    std::tie(tokens[10], tokens[11]) = times();
    if (rng() % 20 == 0) tokens.erase(tokens.begin() + static_cast<long>(rng() % tokens.size()));
    if (rng() % 20 == 0) tokens.push_back("extra");
    std::string line(rng() % 4 == 0 ? rng() % 3 : 0, ' ');
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (t > 0) line += std::string(rng() % 6 == 0 ? 2 + rng() % 2 : 1, ' ');
      line += tokens[t];
    }
    line += std::string(rng() % 4 == 0 ? rng() % 10 : 0, ' ');
    if (rng() % 10 == 0) line += "\r";
    const std::string expected = Reference(f, line);
    ExpectEveryBuildAsReference(line);
    // The same tokens in the custom format's order (this processor's build against the
    // reference; the same record as the default format's when every column is there).
    if (tokens.size() == 14) {
      tokens.push_back(pick({"vpc-0123456789abcdef0", "-"}));
      tokens.push_back(number(300));
      std::string reordered;
      for (size_t c : order) reordered += (reordered.empty() ? "" : " ") + tokens[c];
      const std::string custom_expected = Reference(*custom, reordered);
      ASSERT_EQ(Record(*custom, reordered), custom_expected) << "'" << reordered << "'";
      // When every token is one: not empty (two spaces are one separator) and without '\r'
      // (stripped at a line's end only).
      if (std::all_of(tokens.begin(), tokens.end(), [](const std::string& t) {
            return !t.empty() && t.find('\r') == std::string::npos;
          })) {
        ASSERT_EQ(custom_expected, expected) << "'" << reordered << "'";
      }
    }
    used += expected.starts_with("outcome") ? 0 : 1;
  }
  EXPECT_GT(used, 20000u);  // the random lines reach the record, not only the outcomes
}

// The AVX-512 build reads a line in 64-byte blocks (two up to 128 bytes, four up to 255) and
// takes lines of up to 255 bytes: lines of every length from 27 to 300 bytes, with each
// separator and each number's digits on either side of bytes 64, 128 and 192, numbers of 16 and
// 17 digits (its lanes hold 16) and of 10 and 20, a last byte '\r' or ' ', two spaces at a
// block's end: every build agrees with the reference, in the default format and in a custom
// one (its columns in another order, with one more).
TEST(LineParserTest, EveryBuildAgreesAtTheBlockAndLengthBounds) {
  const std::vector<std::string> tails = {
      "10.0.0.1 10.0.0.2 443 51000 6 3 900 1700000000 1700000060 ACCEPT OK",
      "10.0.0.1 10.0.0.2 443 51000 6 3 1234567890123456 1700000000 1700000060 ACCEPT OK",
      "10.0.0.1 10.0.0.2 443 51000 6 3 12345678901234567 1700000000 1700000060 ACCEPT OK",
      "10.0.0.1 10.0.0.2 443 51000 6 3 18446744073709551615 1700000000 1700000060 ACCEPT OK",
      "10.0.0.1 10.0.0.2 443 51000 6 0003 0000000000000900 1700000000 1700000060 REJECT OK",
      "1.2.3.4 5.6.7.8 0 0 1 1 1 1700000000123 1700000060456 ACCEPT OK",
      "1.2.3.4 5.6.7.8 65536 0 1 1 1 1700000000 1700000060 ACCEPT OK",
      "1.2.3.4 5.6.7.8 1 0 256 1 1 1700000000 1700000060 ACCEPT OK",
      "1.2.3.4 5.6.7.8 1 0 17 1 1 1700000060 1700000000 ACCEPT OK",
      "1.2.3.4 5.6.7.8 1 0 17 - - 1700000000 1700000060 - -",
      "1.2.3.4 5.6.7.8 1 0 17 1 1 1700000000 1700000060 ACCEPT NODATA",
      "1.2.3.4 5.6.7.8 1 0 17 1 1 1700000000 1700000060 DENY OK",
      "1.2.3.4 5.6.7.256 1 0 17 1 1 1700000000 1700000060 ACCEPT OK",
      "2001:db8::1 5.6.7.8 1 0 17 1 1 1700000000 1700000060 ACCEPT OK",
      "1.2.3.4 5.6.7.8 1 0 1a 1 1 1700000000 1700000060 ACCEPT OK",
  };
  const std::optional<FlowFormat> custom = FlowFormat::FromHeader(
      "log-status version srcaddr account-id interface-id dstaddr srcport dstport protocol "
      "packets bytes start end action vpc-id");
  ASSERT_TRUE(custom.has_value());
  // The custom format's line: the default line's tokens in the custom order, plus a vpc-id.
  const auto reorder = [](std::string_view line) {
    std::vector<std::string> t;
    for (size_t pos = 0;;) {
      const size_t end = line.find(' ', pos);
      t.emplace_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
      if (end == std::string_view::npos) break;
      pos = end + 1;
    }
    if (t.size() != 14) return std::string(line);
    return t[13] + " " + t[0] + " " + t[3] + " " + t[1] + " " + t[2] + " " + t[4] + " " + t[5] +
           " " + t[6] + " " + t[7] + " " + t[8] + " " + t[9] + " " + t[10] + " " + t[11] + " " +
           t[12] + " vpc-0123456789abcdef0";
  };
  size_t lines = 0;
  for (const std::string& tail : tails) {
    for (size_t pad = 0; pad <= 250; ++pad) {
      const std::string head = "2 123456789012 eni-" + std::string(pad, 'a') + " ";
      const std::string line = head + tail;
      if (line.size() > 300) continue;
      for (const std::string& variant : {line, line + "\r", line + " "}) {
        ExpectEveryBuildAsReference(variant);
        const std::string reordered = reorder(variant);
        ASSERT_EQ(Record(*custom, reordered), Reference(*custom, reordered))
            << "'" << reordered << "'";
      }
      ++lines;
    }
  }
  // Double spaces at the ends of blocks.
  for (size_t at : {62u, 63u, 64u, 126u, 127u, 128u, 190u, 191u, 192u, 253u, 254u}) {
    std::string line = "2 123456789012 eni-" + std::string(300, 'a');
    line.resize(at);
    line += "  10.0.0.1 10.0.0.2 443 51000 6 3 900 1700000000 1700000060 ACCEPT OK";
    ExpectEveryBuildAsReference(line);
  }
  EXPECT_GT(lines, 2000u);
  // A token dropped after a separator at a block's last byte: two spaces across the blocks, and
  // one token fewer, so that only the run of spaces tells the line apart (kBadTokenCount).
  size_t runs = 0;
  for (size_t pad = 0; pad <= 250; ++pad) {
    const std::string line = "2 123456789012 eni-" + std::string(pad, 'a') + " " + tails[0];
    for (size_t at : {63u, 127u, 191u}) {
      if (at >= line.size() || line[at] != ' ') continue;
      const size_t next = line.find(' ', at + 1);
      if (next == std::string::npos) continue;
      ExpectEveryBuildAsReference(line.substr(0, at + 1) + line.substr(next));
      ++runs;
    }
  }
  EXPECT_GE(runs, 20u);
}

TEST(LineParserTest, ActionNames) {
  EXPECT_EQ(ActionName(Action::kAbsent), "-");
  EXPECT_EQ(ActionName(Action::kAccept), "ACCEPT");
  EXPECT_EQ(ActionName(Action::kReject), "REJECT");
  EXPECT_EQ(Parse(WithToken(kAccepted, 12, "accept")), LineOutcome::kBadValue);
}

}  // namespace
}  // namespace vpcflow
