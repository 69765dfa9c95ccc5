#include "flowlog/object_key.hpp"

#include <gtest/gtest.h>

#include <string>

namespace vpcflow {
namespace {

constexpr std::string_view kName =
    "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz";
constexpr int64_t kStamp = 1529511600;  // 2018-06-20T16:20:00Z

TEST(ObjectKeyTest, DefaultDailyLayout) {
  std::string key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/" + std::string(kName);
  auto k = ParseFlowLogKey(key);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->user_prefix, "");
  EXPECT_EQ(k->account, "123456789012");
  EXPECT_EQ(k->region, "us-east-1");
  EXPECT_EQ(k->flow_log_id, "fl-1234abcd");
  EXPECT_EQ(k->layout, KeyLayout::kDefault);
  EXPECT_FALSE(k->hourly);
  EXPECT_EQ(k->file_time, kStamp);
  EXPECT_EQ(k->kind, ObjectKind::kGzipText);
}

TEST(ObjectKeyTest, DefaultHourlyLayout) {
  const std::string key =
      "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/" + std::string(kName);
  auto k = ParseFlowLogKey(key);
  ASSERT_TRUE(k.has_value());
  EXPECT_TRUE(k->hourly);
  EXPECT_EQ(k->layout, KeyLayout::kDefault);
  EXPECT_EQ(k->file_time, kStamp);
  EXPECT_EQ(k->account, "123456789012");
}

TEST(ObjectKeyTest, HiveLayouts) {
  struct Case {
    std::string key;
    KeyLayout layout;
    bool hourly;
  };
  const std::string hive = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/";
  const std::string legacy = "AWSLogs/aws-account-id=123456789012/service=vpcflowlogs/";
  const std::string day = "aws-region=us-east-1/year=2018/month=06/day=20/";
  const std::string n(kName);
  const Case cases[] = {
      {hive + day + n, KeyLayout::kHive, false},
      {hive + day + "hour=16/" + n, KeyLayout::kHive, true},
      {legacy + day + n, KeyLayout::kHiveLegacy, false},
      {legacy + day + "hour=16/" + n, KeyLayout::kHiveLegacy, true},
  };
  for (const Case& c : cases) {
    auto k = ParseFlowLogKey(c.key);
    ASSERT_TRUE(k.has_value()) << c.key;
    EXPECT_EQ(k->layout, c.layout) << c.key;
    EXPECT_EQ(k->hourly, c.hourly) << c.key;
    EXPECT_EQ(k->account, "123456789012");
    EXPECT_EQ(k->region, "us-east-1");
    EXPECT_EQ(k->flow_log_id, "fl-1234abcd");
    EXPECT_EQ(k->user_prefix, "");
    EXPECT_EQ(k->file_time, kStamp);
  }
}

TEST(ObjectKeyTest, UserPrefixWithSlashes) {
  const std::string tail =
      "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/" + std::string(kName);
  for (std::string prefix : {"logs", "a/b/c", "AWSLogs", "x/AWSLogs/123456789012", "2018/06/20",
                             "year=2018/month=06/day=20"}) {
    std::string key = prefix + "/" + tail;
    auto k = ParseFlowLogKey(key);
    ASSERT_TRUE(k.has_value()) << key;
    EXPECT_EQ(k->user_prefix, prefix);
    EXPECT_EQ(k->account, "123456789012");
  }
  const std::string hive =  // views point into the key: keep it alive
      "flow/logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
      "aws-region=us-east-1/year=2018/month=06/day=20/hour=16/" +
      std::string(kName);
  auto k = ParseFlowLogKey(hive);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->user_prefix, "flow/logs");
  EXPECT_TRUE(k->hourly);
}

TEST(ObjectKeyTest, Extensions) {
  const std::string folder = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/";
  const std::string stem = "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456";
  auto k = ParseFlowLogKey(folder + stem + ".log");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kPlainText);
  k = ParseFlowLogKey(folder + stem + ".parquet");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kParquet);
  k = ParseFlowLogKey(folder + stem + ".gz.parquet");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kParquet);
  k = ParseFlowLogKey(folder + stem + ".log.parquet");  // what AWS writes
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, ObjectKind::kParquet);
  EXPECT_EQ(k->file_time, kStamp);
  EXPECT_EQ(k->file_time, kStamp);
  for (std::string ext : {".gz", ".txt", ".log.gz.tmp", ".LOG.GZ", "", ".log.bz2", ".parquet.gz"}) {
    EXPECT_FALSE(ParseFlowLogKey(folder + stem + ext).has_value()) << ext;
  }
}

TEST(ObjectKeyTest, FolderMustAgreeWithTheName) {
  const std::string n(kName);
  for (std::string key : {
           // another day, month, year, hour
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/21/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/07/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/06/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/15/" + n,
           "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
           "year=2018/month=06/day=20/hour=17/" +
               n,
           // another account or region
           "AWSLogs/123456789013/vpcflowlogs/us-east-1/2018/06/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-2/2018/06/20/" + n,
           "AWSLogs/aws-account-id=210987654321/aws-service=vpcflowlogs/aws-region=us-east-1/"
           "year=2018/month=06/day=20/" +
               n,
           // unpadded folders
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/6/20/" + n,
           "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
           "year=2018/month=6/day=20/" +
               n,
           // mixed layout families
           "AWSLogs/123456789012/aws-service=vpcflowlogs/us-east-1/2018/06/20/" + n,
           "AWSLogs/aws-account-id=123456789012/vpcflowlogs/aws-region=us-east-1/"
           "year=2018/month=06/day=20/" +
               n,
           "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
           "2018/06/20/" +
               n,
           // another service, missing or extra folders
           "AWSLogs/123456789012/CloudTrail/us-east-1/2018/06/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/2018/06/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/00/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/06/20/" + n,
           "awslogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/" + n,
           "logsAWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/" + n,
           "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20//" + n,
           n,
           "/" + n,
       }) {
    EXPECT_FALSE(ParseFlowLogKey(key).has_value()) << key;
  }
}

TEST(ObjectKeyTest, FileNames) {
  auto k = ParseFlowLogFileName(kName);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->account, "123456789012");
  EXPECT_EQ(k->region, "us-east-1");
  EXPECT_EQ(k->flow_log_id, "fl-1234abcd");
  EXPECT_EQ(k->file_time, kStamp);
  EXPECT_EQ(k->user_prefix, "");
  // Only the last segment is looked at.
  k = ParseFlowLogFileName("any/folder/" + std::string(kName));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->file_time, kStamp);

  k = ParseFlowLogFileName(
      "123456789012_vpcflowlogs_us-gov-west-1_fl-0a1b2c3d4e5f67890_20240229T2355Z_0123abcd.log");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->region, "us-gov-west-1");
  EXPECT_EQ(k->file_time, 1709250900);  // 2024-02-29T23:55:00Z
  k = ParseFlowLogFileName("123456789012_vpcflowlogs_eu-west-1_fl-1_19700101T0000Z_a.log.gz");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->file_time, 0);
}

TEST(ObjectKeyTest, RejectsGarbageNames) {
  for (std::string_view bad : {
           "",
           ".log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z.log.gz",  // no hash
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe1_x.log.gz",
           "12345678901_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
           "1234567890123_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
           "12345678901a_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
           "123456789012_elasticloadbalancing_us-east-1_fl-1234abcd_20180620T1620Z_fe1.log.gz",
           "123456789012_vpcflowlogs__fl-1234abcd_20180620T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_US-EAST-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_1234abcd_20180620T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-_20180620T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620 1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_2018062T01620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180631T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20181320T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T2420Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1660Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190229T1620Z_fe123456.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe-123.log.gz",
           "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_-0180620T1620Z_fe123456.log.gz",
       }) {
    EXPECT_FALSE(ParseFlowLogFileName(bad).has_value()) << bad;
    std::string key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/" + std::string(bad);
    EXPECT_FALSE(ParseFlowLogKey(key).has_value()) << key;
  }
}

TEST(ObjectKeyTest, RejectsGarbageKeys) {
  for (std::string_view bad : {"", "/", "AWSLogs/", "AWSLogs/123456789012/vpcflowlogs/",
                               "AWSLogs/123456789012/CloudTrail/us-east-1/2018/06/20/x.json.gz",
                               "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/",
                               "///////////", "a/b/c/d/e/f/g/h/i/j/k.log.gz"}) {
    EXPECT_FALSE(ParseFlowLogKey(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vpcflow
