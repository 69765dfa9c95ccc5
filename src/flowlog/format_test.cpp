#include "flowlog/format.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vpcflow {
namespace {

using ::testing::ElementsAre;

struct Documented {
  const char* name;
  Field field;
  int version;
};

// Every name of FLOWLOGS.md and the AWS field tables, versions 2 to 11.
const Documented kDocumented[] = {
    {"version", Field::kVersion, 2},
    {"account-id", Field::kAccountId, 2},
    {"interface-id", Field::kInterfaceId, 2},
    {"srcaddr", Field::kSrcAddr, 2},
    {"dstaddr", Field::kDstAddr, 2},
    {"srcport", Field::kSrcPort, 2},
    {"dstport", Field::kDstPort, 2},
    {"protocol", Field::kProtocol, 2},
    {"packets", Field::kPackets, 2},
    {"bytes", Field::kBytes, 2},
    {"start", Field::kStart, 2},
    {"end", Field::kEnd, 2},
    {"action", Field::kAction, 2},
    {"log-status", Field::kLogStatus, 2},
    {"vpc-id", Field::kVpcId, 3},
    {"subnet-id", Field::kSubnetId, 3},
    {"instance-id", Field::kInstanceId, 3},
    {"tcp-flags", Field::kTcpFlags, 3},
    {"type", Field::kType, 3},
    {"pkt-srcaddr", Field::kPktSrcAddr, 3},
    {"pkt-dstaddr", Field::kPktDstAddr, 3},
    {"region", Field::kRegion, 4},
    {"az-id", Field::kAzId, 4},
    {"sublocation-type", Field::kSublocationType, 4},
    {"sublocation-id", Field::kSublocationId, 4},
    {"pkt-src-aws-service", Field::kPktSrcAwsService, 5},
    {"pkt-dst-aws-service", Field::kPktDstAwsService, 5},
    {"flow-direction", Field::kFlowDirection, 5},
    {"traffic-path", Field::kTrafficPath, 5},
    {"resource-type", Field::kResourceType, 6},
    {"tgw-id", Field::kTgwId, 6},
    {"tgw-attachment-id", Field::kTgwAttachmentId, 6},
    {"tgw-src-vpc-account-id", Field::kTgwSrcVpcAccountId, 6},
    {"tgw-dst-vpc-account-id", Field::kTgwDstVpcAccountId, 6},
    {"tgw-src-vpc-id", Field::kTgwSrcVpcId, 6},
    {"tgw-dst-vpc-id", Field::kTgwDstVpcId, 6},
    {"tgw-src-subnet-id", Field::kTgwSrcSubnetId, 6},
    {"tgw-dst-subnet-id", Field::kTgwDstSubnetId, 6},
    {"tgw-src-eni", Field::kTgwSrcEni, 6},
    {"tgw-dst-eni", Field::kTgwDstEni, 6},
    {"tgw-src-az-id", Field::kTgwSrcAzId, 6},
    {"tgw-dst-az-id", Field::kTgwDstAzId, 6},
    {"tgw-pair-attachment-id", Field::kTgwPairAttachmentId, 6},
    {"packets-lost-no-route", Field::kPacketsLostNoRoute, 6},
    {"packets-lost-blackhole", Field::kPacketsLostBlackhole, 6},
    {"packets-lost-mtu-exceeded", Field::kPacketsLostMtuExceeded, 6},
    {"packets-lost-ttl-expired", Field::kPacketsLostTtlExpired, 6},
    {"ecs-cluster-arn", Field::kEcsClusterArn, 7},
    {"ecs-cluster-name", Field::kEcsClusterName, 7},
    {"ecs-container-instance-arn", Field::kEcsContainerInstanceArn, 7},
    {"ecs-container-instance-id", Field::kEcsContainerInstanceId, 7},
    {"ecs-container-id", Field::kEcsContainerId, 7},
    {"ecs-second-container-id", Field::kEcsSecondContainerId, 7},
    {"ecs-service-name", Field::kEcsServiceName, 7},
    {"ecs-task-definition-arn", Field::kEcsTaskDefinitionArn, 7},
    {"ecs-task-arn", Field::kEcsTaskArn, 7},
    {"ecs-task-id", Field::kEcsTaskId, 7},
    {"reject-reason", Field::kRejectReason, 8},
    {"resource-id", Field::kResourceId, 9},
    {"encryption-status", Field::kEncryptionStatus, 10},
    {"instance-tag", Field::kInstanceTag, 11},
    {"instance-tag-2", Field::kInstanceTag2, 11},
    {"interface-tag", Field::kInterfaceTag, 11},
    {"interface-tag-2", Field::kInterfaceTag2, 11},
    {"asg-tag", Field::kAsgTag, 11},
    {"asg-tag-2", Field::kAsgTag2, 11},
    {"interface-type", Field::kInterfaceType, 11},
    {"next-hop-interface-id", Field::kNextHopInterfaceId, 11},
    {"next-hop-subnet-id", Field::kNextHopSubnetId, 11},
    {"next-hop-az-id", Field::kNextHopAzId, 11},
    {"next-hop-vpc-id", Field::kNextHopVpcId, 11},
    {"next-hop-interface-type", Field::kNextHopInterfaceType, 11},
};

TEST(FieldTest, EveryDocumentedNameRoundTrips) {
  EXPECT_EQ(std::size(kDocumented), static_cast<size_t>(Field::kUnknown));
  for (const Documented& d : kDocumented) {
    SCOPED_TRACE(d.name);
    EXPECT_EQ(FieldFromName(d.name), d.field);
    EXPECT_EQ(FieldName(d.field), d.name);
    EXPECT_EQ(FieldVersion(d.field), d.version);
  }
}

TEST(FieldTest, AcceptsParquetUnderscoreSpelling) {
  for (const Documented& d : kDocumented) {
    std::string underscored = d.name;
    for (char& c : underscored) {
      if (c == '-') c = '_';
    }
    EXPECT_EQ(FieldFromName(underscored), d.field) << underscored;
  }
}

TEST(FieldTest, UnknownNames) {
  EXPECT_EQ(FieldFromName(""), Field::kUnknown);
  EXPECT_EQ(FieldFromName("srcaddrx"), Field::kUnknown);
  EXPECT_EQ(FieldFromName("srcadd"), Field::kUnknown);
  EXPECT_EQ(FieldFromName("SRCADDR"), Field::kUnknown);
  EXPECT_EQ(FieldFromName("future-field-v12"), Field::kUnknown);
  EXPECT_EQ(FieldFromName(std::string(200, 'a')), Field::kUnknown);
  EXPECT_EQ(FieldName(Field::kUnknown), "");
  EXPECT_EQ(FieldVersion(Field::kUnknown), 0);
}

TEST(FlowFormatTest, DefaultIsVersionTwoInOrder) {
  const FlowFormat& f = FlowFormat::Default();
  EXPECT_THAT(f.columns(),
              ElementsAre(Field::kVersion, Field::kAccountId, Field::kInterfaceId, Field::kSrcAddr,
                          Field::kDstAddr, Field::kSrcPort, Field::kDstPort, Field::kProtocol,
                          Field::kPackets, Field::kBytes, Field::kStart, Field::kEnd,
                          Field::kAction, Field::kLogStatus));
  EXPECT_EQ(f.column_count(), 14u);
  EXPECT_EQ(f.version(), 2);
  EXPECT_EQ(f.ColumnOf(Field::kSrcAddr), 3);
  EXPECT_EQ(f.ColumnOf(Field::kLogStatus), 13);
  EXPECT_EQ(f.ColumnOf(Field::kVpcId), -1);
  EXPECT_EQ(f.ColumnOf(Field::kUnknown), -1);
}

TEST(FlowFormatTest, DefaultHeaderParsesToDefault) {
  auto f = FlowFormat::FromHeader(
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
      "start end action log-status");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->columns(), FlowFormat::Default().columns());
  EXPECT_TRUE(f->is_default());
}

// is_default picks ParseFlowLine's path for the default layout: only that exact layout.
TEST(FlowFormatTest, IsDefaultOnlyForTheDefaultColumnsInOrder) {
  EXPECT_TRUE(FlowFormat::Default().is_default());
  std::vector<Field> columns = FlowFormat::Default().columns();
  EXPECT_TRUE(FlowFormat(columns).is_default());
  std::swap(columns[8], columns[9]);  // bytes before packets
  EXPECT_FALSE(FlowFormat(columns).is_default());
  std::swap(columns[8], columns[9]);
  columns.push_back(Field::kVpcId);
  EXPECT_FALSE(FlowFormat(columns).is_default());
  columns.pop_back();
  columns.pop_back();  // no log-status
  EXPECT_FALSE(FlowFormat(columns).is_default());
  columns.push_back(Field::kUnknown);
  EXPECT_FALSE(FlowFormat(columns).is_default());
  EXPECT_FALSE(FlowFormat({}).is_default());
}

TEST(FlowFormatTest, CustomOrderAndVersion) {
  // AWS's "TCP flag sequence" example format (version 3).
  auto f = FlowFormat::FromHeader(
      "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport "
      "dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags "
      "log-status");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->column_count(), 21u);
  EXPECT_EQ(f->version(), 3);
  EXPECT_EQ(f->ColumnOf(Field::kSrcAddr), 7);
  EXPECT_EQ(f->ColumnOf(Field::kBytes), 14);
  EXPECT_EQ(f->ColumnOf(Field::kPackets), 15);
  EXPECT_EQ(f->ColumnOf(Field::kRegion), -1);
}

TEST(FlowFormatTest, VersionIsTheHighestField) {
  EXPECT_EQ(FlowFormat::FromHeader("srcaddr dstaddr")->version(), 2);
  EXPECT_EQ(FlowFormat::FromHeader("srcaddr az-id")->version(), 4);
  EXPECT_EQ(FlowFormat::FromHeader("traffic-path srcaddr")->version(), 5);
  EXPECT_EQ(FlowFormat::FromHeader("srcaddr tgw-id")->version(), 6);
  EXPECT_EQ(FlowFormat::FromHeader("ecs-task-id srcaddr")->version(), 7);
  EXPECT_EQ(FlowFormat::FromHeader("reject-reason")->version(), 8);
  EXPECT_EQ(FlowFormat::FromHeader("resource-id")->version(), 9);
  EXPECT_EQ(FlowFormat::FromHeader("encryption-status bytes")->version(), 10);
  EXPECT_EQ(FlowFormat::FromHeader("next-hop-vpc-id srcaddr")->version(), 11);
}

TEST(FlowFormatTest, EveryDocumentedNameInOneHeader) {
  std::string header;
  for (const Documented& d : kDocumented) header += std::string(d.name) + " ";
  auto f = FlowFormat::FromHeader(header);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->column_count(), std::size(kDocumented));
  for (size_t i = 0; i < std::size(kDocumented); ++i) {
    EXPECT_EQ(f->ColumnOf(kDocumented[i].field), static_cast<int>(i));
  }
  EXPECT_EQ(f->version(), 11);
}

TEST(FlowFormatTest, UnknownFutureNamesAreToleratedAsColumns) {
  auto f = FlowFormat::FromHeader("version srcaddr some-future-field dstaddr another_one");
  ASSERT_TRUE(f.has_value());
  EXPECT_THAT(f->columns(), ElementsAre(Field::kVersion, Field::kSrcAddr, Field::kUnknown,
                                        Field::kDstAddr, Field::kUnknown));
  EXPECT_EQ(f->ColumnOf(Field::kDstAddr), 3);
  EXPECT_EQ(f->ColumnOf(Field::kUnknown), 2);
  EXPECT_EQ(f->version(), 2);
}

TEST(FlowFormatTest, FirstOccurrenceWins) {
  auto f = FlowFormat::FromHeader("srcaddr bytes srcaddr");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->ColumnOf(Field::kSrcAddr), 0);
}

TEST(FlowFormatTest, RunsOfSpacesAndCarriageReturn) {
  auto f = FlowFormat::FromHeader("  version   srcaddr dstaddr \r");
  ASSERT_TRUE(f.has_value());
  EXPECT_THAT(f->columns(), ElementsAre(Field::kVersion, Field::kSrcAddr, Field::kDstAddr));
}

TEST(FlowFormatTest, ParquetSpellingInHeader) {
  auto f = FlowFormat::FromHeader("account_id interface_id log_status");
  ASSERT_TRUE(f.has_value());
  EXPECT_THAT(f->columns(), ElementsAre(Field::kAccountId, Field::kInterfaceId, Field::kLogStatus));
}

TEST(FlowFormatTest, RejectsNonHeaders) {
  const char* kNotHeaders[] = {
      // data lines of AWS's examples
      "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 "
      "1418530010 1418530070 ACCEPT OK",
      "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
      "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
      "",
      "   ",
      "\r",
      "Version srcaddr",            // upper case
      "version srcaddr 2",          // a number
      "version\tsrcaddr",           // a tab is not a separator: "version\tsrcaddr" is not a name
      "no-known-names here",        // shaped, but nothing known
      "version srcaddr -",          // '-' alone
      "version srcaddr -dstaddr",   // starts with '-'
      "version srcaddr dst.addr",   // '.'
      "version srcaddr dstaddr\n",  // a newline is not stripped
  };
  for (const char* line : kNotHeaders) {
    EXPECT_FALSE(FlowFormat::FromHeader(line).has_value()) << "'" << line << "'";
  }
}

}  // namespace
}  // namespace vpcflow
