#include "common/aws_names.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

TEST(AwsNamesTest, AccountIdsAreTwelveDigits) {
  EXPECT_TRUE(IsAwsAccountId("123456789012"));
  for (const char* bad : {"", "12345678901", "1234567890123", "12345678901a", " 23456789012"}) {
    EXPECT_FALSE(IsAwsAccountId(bad)) << bad;
  }
}

TEST(AwsNamesTest, RegionNamesAreLowerCaseWordsWithDashes) {
  for (const char* ok : {"us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2"}) {
    EXPECT_TRUE(IsAwsRegionName(ok)) << ok;
  }
  for (const char* bad : {"", "US-EAST-1", "us_east_1", "us east 1", "<html>",
                          "a-very-long-region-name-that-is-not-real"}) {
    EXPECT_FALSE(IsAwsRegionName(bad)) << bad;
  }
}

}  // namespace
}  // namespace vpcflow
