#include "s3/credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

// --- static ------------------------------------------------------------------------------------

TEST(StaticCredentialsProviderTest, ReturnsTheCredentials) {
  CredentialsProviderPtr provider = NewStaticCredentialsProvider(
      AwsCredentials{.keys = {"AKID", kSecret, kSessionToken}}, "environment");
  Result<AwsCredentials> got = provider->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "AKID");
  EXPECT_EQ(got->keys.secret_access_key, kSecret);
  EXPECT_EQ(got->keys.session_token, kSessionToken);
  EXPECT_EQ(got->expires_unix_ms, 0);
  EXPECT_EQ(provider->Describe(), "environment");
}

}  // namespace
}  // namespace vpcflow
