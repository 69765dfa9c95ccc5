#include "service/s3_stores.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "service/config.hpp"
#include "testing/aws_stand_ins.hpp"
#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

// The credential chain's inputs as the service and the CLI read them: the one configuration
// reader (S3AccessFromEnvironment), then CredentialsSettingsFromConfig.
CredentialsSettings SettingsOf(const std::map<std::string, std::string>& env) {
  Result<Config> c = S3AccessFromEnvironment(env);
  EXPECT_OK(c.status());
  return c.ok() ? CredentialsSettingsFromConfig(*c) : CredentialsSettings{};
}

TEST(CredentialsSettingsTest, OlderServiceNamesWinOverSdkNames) {
  const CredentialsSettings s = SettingsOf({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", kSecret},
      {"AWS_SESSION_TOKEN", kSessionToken},
      {"AWS_CREDENTIALS_FILE", "/old/credentials"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/sdk/credentials"},
      {"AWS_CREDENTIALS_PROFILE", "old"},
      {"AWS_PROFILE", "sdk"},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
      {"AWS_ROLE_ARN", kRoleArn},
      {"AWS_ROLE_SESSION_NAME", "session"},
      {"USE_IAM", "yes"},
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"},
      {"AWS_ENDPOINT_URL_STS", "http://sts.local"},
      {"AWS_ENDPOINT_URL", "http://all.local"},
      {"AWS_REGION", "eu-west-1"},
      {"AWS_DEFAULT_REGION", "us-west-2"},
  });
  EXPECT_EQ(s.access_key_id, "AKID");
  EXPECT_EQ(s.secret_access_key, kSecret);
  EXPECT_EQ(s.session_token, kSessionToken);
  EXPECT_EQ(s.credentials_file, "/old/credentials");
  EXPECT_EQ(s.profile, "old");
  EXPECT_EQ(s.web_identity_token_file, "/var/run/token");
  EXPECT_EQ(s.role_arn, kRoleArn);
  EXPECT_EQ(s.role_session_name, "session");
  EXPECT_TRUE(s.use_iam);
  EXPECT_EQ(s.ec2_metadata_endpoint, "http://127.0.0.1:1");
  EXPECT_EQ(s.sts_endpoint, "http://sts.local");
  EXPECT_EQ(s.region, "eu-west-1");
}

TEST(CredentialsSettingsTest, FallsBackToSdkNamesAndDefaults) {
  const CredentialsSettings s = SettingsOf({
      {"AWS_SHARED_CREDENTIALS_FILE", "/sdk/credentials"},
      {"AWS_PROFILE", "sdk"},
      {"AWS_ENDPOINT_URL", "http://all.local"},
      {"AWS_DEFAULT_REGION", "us-west-2"},
      {"AWS_CREDENTIALS_FILE", ""},  // empty counts as unset
  });
  EXPECT_EQ(s.credentials_file, "/sdk/credentials");
  EXPECT_EQ(s.profile, "sdk");
  EXPECT_EQ(s.sts_endpoint, "http://all.local");
  EXPECT_EQ(s.region, "us-west-2");
  EXPECT_FALSE(s.use_iam);
  EXPECT_EQ(s.refresh_margin_ms, 5 * 60 * 1000);

  const CredentialsSettings empty = SettingsOf({});
  EXPECT_EQ(empty.access_key_id, "");
  EXPECT_EQ(empty.profile, "");
  EXPECT_EQ(empty.region, "");
}

TEST(CredentialsSettingsTest, UseIamAcceptsTheUsualSpellings) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "Yes"}) {
    EXPECT_TRUE(SettingsOf({{"USE_IAM", yes}}).use_iam) << yes;
  }
  for (const char* no : {"false", "0", "no", ""}) {
    EXPECT_FALSE(SettingsOf({{"USE_IAM", no}}).use_iam) << no;
  }
}

TEST(CredentialsSettingsTest, AMisspelledUseIamIsRefused) {
  EXPECT_THAT(S3AccessFromEnvironment({{"USE_IAM", "maybe"}}).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("USE_IAM")));
}

TEST(S3EndpointTest, TheS3EndpointWinsOverTheGeneralOne) {
  Result<Config> both = S3AccessFromEnvironment(
      {{"AWS_ENDPOINT_URL", "http://all.local"}, {"AWS_ENDPOINT_URL_S3", "http://s3.local"}});
  ASSERT_OK(both.status());
  EXPECT_EQ(S3EndpointFromConfig(*both), "http://s3.local");
  Result<Config> general = S3AccessFromEnvironment({{"AWS_ENDPOINT_URL", "http://all.local"}});
  ASSERT_OK(general.status());
  EXPECT_EQ(S3EndpointFromConfig(*general), "http://all.local");
}

}  // namespace
}  // namespace vpcflow
