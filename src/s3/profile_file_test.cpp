#include "s3/profile_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class ProfileFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.Sub("credentials");
    WriteFile(path, text);
    return path;
  }
  ScratchDir dir_;
};

TEST_F(ProfileFileTest, ReadsDefaultAndNamedProfiles) {
  const std::string path = Write(
      "[default]\n"
      "aws_access_key_id = AKIDDEFAULT\n"
      "aws_secret_access_key = " +
      std::string(kSecret) +
      "\n"
      "\n"
      "[prod]\n"
      "aws_access_key_id=AKIDPROD\n"
      "aws_secret_access_key=" +
      kSecret +
      "\n"
      "aws_session_token=" +
      kSessionToken + "\n");
  Result<AwsCredentials> def = LoadProfileCredentials(path, "default");
  ASSERT_OK(def);
  EXPECT_EQ(def->keys.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(def->keys.secret_access_key, kSecret);
  EXPECT_EQ(def->keys.session_token, "");
  EXPECT_EQ(def->expires_unix_ms, 0);

  Result<AwsCredentials> prod = LoadProfileCredentials(path, "prod");
  ASSERT_OK(prod);
  EXPECT_EQ(prod->keys.access_key_id, "AKIDPROD");
  EXPECT_EQ(prod->keys.session_token, kSessionToken);
}

TEST_F(ProfileFileTest, AcceptsProfilePrefixCommentsWhitespaceAndCrlf) {
  const std::string path = Write(
      "# a comment\r\n"
      "; another comment\r\n"
      "[profile   staging]   # inline comment\r\n"
      "   aws_access_key_id   =   AKIDSTAGING   \r\n"
      "\t# indented comment\r\n"
      "AWS_Secret_Access_Key = " +
      std::string(kSecret) +
      " ; trailing comment\r\n"
      "s3 =\r\n"
      "  max_concurrent_requests = 20\r\n"
      "region = eu-west-1\r\n"
      "[other]\r\n"
      "aws_access_key_id = AKIDOTHER\r\n");
  Result<AwsCredentials> got = LoadProfileCredentials(path, "staging");
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "AKIDSTAGING");
  EXPECT_EQ(got->keys.secret_access_key, kSecret);
}

TEST_F(ProfileFileTest, MissingFileIsNotFound) {
  const std::string path = dir_.Sub("nope");
  Result<AwsCredentials> got = LoadProfileCredentials(path, "default");
  EXPECT_THAT(got, StatusIs(StatusCode::kNotFound, HasSubstr(path)));
}

TEST_F(ProfileFileTest, MissingProfileIsNotFoundNamingFileAndProfile) {
  const std::string path =
      Write("[default]\naws_access_key_id = A\naws_secret_access_key = " + std::string(kSecret));
  Result<AwsCredentials> got = LoadProfileCredentials(path, "prod");
  EXPECT_THAT(got, StatusIs(StatusCode::kNotFound, AllOf(HasSubstr("prod"), HasSubstr(path))));
  ExpectNoSecretsIn(got);
}

TEST_F(ProfileFileTest, MissingKeyIsFailedPreconditionWithoutSecrets) {
  const std::string path = Write("[prod]\naws_secret_access_key = " + std::string(kSecret) +
                                 "\naws_session_token = " + kSessionToken + "\n");
  Result<AwsCredentials> got = LoadProfileCredentials(path, "prod");
  EXPECT_THAT(got,
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("aws_access_key_id"), HasSubstr("prod"), HasSubstr(path))));
  ExpectNoSecretsIn(got);

  const std::string path2 = Write("[prod]\naws_access_key_id = AKID\n");
  EXPECT_THAT(LoadProfileCredentials(path2, "prod"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("aws_secret_access_key")));
}

TEST(ProfileTextTest, ConfigFileProfilesAreDefaultAndProfilePrefixedSectionsOnly) {
  const ProfileSections sections = ParseProfileText(
      "[default]\nregion = eu-west-1\n"
      "[profile prod]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
      "[plain]\nregion = us-west-2\n"
      "[sso-session corp]\nsso_region = us-east-1\n"
      "[services dev]\ns3 =\n  endpoint_url = http://localhost\n",
      ProfileFileKind::kConfig);
  ASSERT_EQ(sections.size(), 2u);
  EXPECT_EQ(sections.at("default").at("region"), "eu-west-1");
  EXPECT_EQ(sections.at("prod").at("role_arn"), "arn:aws:iam::1:role/r");
  EXPECT_EQ(sections.at("prod").at("source_profile"), "base");
  // The credentials file takes plain section names.
  EXPECT_EQ(ParseProfileText("[plain]\nx = 1\n", ProfileFileKind::kCredentials).count("plain"), 1u);
}

class LoadProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.home = dir_.Sub("home");
    settings_.credentials_file = dir_.Sub("credentials");
    settings_.config_file = dir_.Sub("config");
  }
  ScratchDir dir_;
  CredentialsSettings settings_;
};

TEST_F(LoadProfileTest, MergesBothFilesTheCredentialsFileWinning) {
  WriteFile(dir_.Sub("config"),
            "[profile prod]\nregion = eu-central-1\naws_access_key_id = AKIDCONFIG\n");
  WriteFile(dir_.Sub("credentials"),
            "[prod]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = " +
                std::string(kSecret) + "\n");
  Result<AwsProfile> profile = LoadProfile(settings_, "prod");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Get("region"), "eu-central-1");
  EXPECT_EQ(profile->Get("aws_access_key_id"), "AKIDCREDS");
  EXPECT_EQ(profile->Get("missing"), "");
  EXPECT_EQ(profile->source,
            "profile prod in " + dir_.Sub("config") + " and " + dir_.Sub("credentials"));
  Result<AwsCredentials> keys = ProfileKeys(*profile);
  ASSERT_OK(keys);
  EXPECT_EQ(keys->keys.access_key_id, "AKIDCREDS");
}

TEST_F(LoadProfileTest, MissingFilesAndProfilesAreNotFoundNamingTheFiles) {
  Result<AwsProfile> none = LoadProfile(settings_, "prod");
  EXPECT_THAT(none, StatusIs(StatusCode::kNotFound,
                             AllOf(HasSubstr("profile prod"), HasSubstr(dir_.Sub("credentials")),
                                   HasSubstr(dir_.Sub("config")))));
  WriteFile(dir_.Sub("config"), "[profile other]\nregion = eu-west-1\n");
  EXPECT_THAT(LoadProfile(settings_, "prod"), StatusIs(StatusCode::kNotFound));
}

TEST_F(LoadProfileTest, DefaultPathsAreUnderHome) {
  CredentialsSettings settings;
  settings.home = "/home/u";
  EXPECT_EQ(CredentialsFilePath(settings), "/home/u/.aws/credentials");
  EXPECT_EQ(ConfigFilePath(settings), "/home/u/.aws/config");
  settings.home = "";
  EXPECT_EQ(ConfigFilePath(settings), "");
  settings.config_file = "/etc/aws/config";
  EXPECT_EQ(ConfigFilePath(settings), "/etc/aws/config");
}

}  // namespace
}  // namespace vpcflow
