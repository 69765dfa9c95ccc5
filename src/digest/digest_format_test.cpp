#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

TEST(DigestFormatTest, ParsesAndNamesEveryFormat) {
  for (DigestFormat f : {DigestFormat::kFlowLog, DigestFormat::kNdjson, DigestFormat::kCsv}) {
    EXPECT_THAT(ParseDigestFormat(DigestFormatName(f)), IsOkAndHolds(f));
  }
  EXPECT_EQ(DigestFormatName(DigestFormat::kFlowLog), "flowlog");
  EXPECT_THAT(ParseDigestFormat("json"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("json")));
  EXPECT_THAT(ParseDigestFormat(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST(VersionTest, IsTheProjectVersion) { EXPECT_EQ(Version(), "0.1.0"); }

}  // namespace
}  // namespace vpcflow
