#include "s3/credentials_chain.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "s3/imds.hpp"
#include "s3/sts.hpp"
#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// --- the default chain -------------------------------------------------------------------------

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("token"), kWebToken);
    // Sources that must not be reached point at a refused port.
    unreachable_ = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
    settings_.home = dir_.Sub("home");  // no .aws/credentials there
    settings_.sts_endpoint = unreachable_;
    settings_.ec2_metadata_endpoint = unreachable_;
    settings_.sleep = NoWait();
  }

  void WriteProfiles() {
    WriteFile(
        dir_.Sub("credentials"),
        "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = " + std::string(kSecret) +
            "\n[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = " + kSecret +
            "\n[broken]\naws_access_key_id = AKIDBROKEN\n");
    settings_.credentials_file = dir_.Sub("credentials");
  }

  void UseWebIdentity(const std::string& sts_url) {
    settings_.web_identity_token_file = dir_.Sub("token");
    settings_.role_arn = kRoleArn;
    settings_.sts_endpoint = sts_url;
  }

  Result<CredentialsProviderPtr> Chain() {
    return NewDefaultCredentialsChain(settings_, Curl(), clock_);
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  ScratchDir dir_;
  std::string unreachable_;
  CredentialsSettings settings_;
};

TEST_F(ChainTest, EnvironmentWinsOverTheFile) {
  WriteProfiles();
  settings_.access_key_id = "AKIDENV";
  settings_.secret_access_key = kSecret;
  settings_.session_token = kSessionToken;
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "environment");
  Result<AwsCredentials> got = (*chain)->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "AKIDENV");
  EXPECT_EQ(got->keys.session_token, kSessionToken);
}

TEST_F(ChainTest, FileWinsOverWebIdentity) {
  WriteProfiles();
  auto sts = StartServer();
  ASSERT_NE(sts, nullptr);
  UseWebIdentity(sts->url());
  settings_.profile = "prod";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "profile prod in " + dir_.Sub("credentials"));
  Result<AwsCredentials> got = (*chain)->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "AKIDPROD");
  EXPECT_EQ(sts->request_count(), 0u);
}

TEST_F(ChainTest, DefaultFileUnderHome) {
  std::filesystem::create_directories(dir_.Sub("home/.aws"));
  WriteFile(dir_.Sub("home/.aws/credentials"),
            "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = x\n");
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "profile default in " + dir_.Sub("home/.aws/credentials"));
}

TEST_F(ChainTest, WebIdentityWinsOverImds) {
  StsStandIn sts("AssumeRoleWithWebIdentity", clock_);
  ASSERT_NE(sts.server, nullptr);
  auto imds = StartServer();
  ASSERT_NE(imds, nullptr);
  UseWebIdentity(sts.server->url());
  settings_.use_iam = true;
  settings_.ec2_metadata_endpoint = imds->url();
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), std::string("web identity ") + kRoleArn);
  ASSERT_OK((*chain)->Get());
  EXPECT_EQ(sts.server->request_count(), 1u);  // resolved once, the result cached
  EXPECT_EQ(imds->request_count(), 0u);
}

TEST_F(ChainTest, MissingDefaultProfileFallsThroughToImds) {
  WriteFile(dir_.Sub("credentials"), "[other]\naws_access_key_id = A\naws_secret_access_key = B\n");
  settings_.credentials_file = dir_.Sub("credentials");
  auto imds = StartServer([this](const TestHttpRequest& r) { return ImdsHandler(r, *clock_); });
  ASSERT_NE(imds, nullptr);
  settings_.use_iam = true;
  settings_.ec2_metadata_endpoint = imds->url();
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "imds " + imds->url());
  Result<AwsCredentials> got = (*chain)->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "ASIAIMDS");
  EXPECT_EQ(imds->request_count(), 3u);
}

TEST_F(ChainTest, MissingNamedProfileIsReportedNow) {
  WriteProfiles();
  auto sts = StartServer();
  ASSERT_NE(sts, nullptr);
  UseWebIdentity(sts->url());
  settings_.profile = "staging";
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain,
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("profile staging"), HasSubstr(dir_.Sub("credentials")))));
  EXPECT_EQ(sts->request_count(), 0u);
}

TEST_F(ChainTest, BrokenProfileIsReportedNow) {
  WriteProfiles();
  settings_.profile = "broken";
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain, StatusIs(StatusCode::kFailedPrecondition,
                              AllOf(HasSubstr("broken"), HasSubstr("aws_secret_access_key"))));
  ExpectNoSecretsIn(chain);
}

TEST_F(ChainTest, NothingYieldsListsWhatWasTried) {
  settings_.secret_access_key = kSecret;  // without a key id: not usable
  settings_.session_token = kSessionToken;
  UseWebIdentity(unreachable_);
  settings_.use_iam = true;
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain, StatusIs(StatusCode::kFailedPrecondition,
                              AllOf(HasSubstr("environment"), HasSubstr("credentials file"),
                                    HasSubstr(std::string("web identity ") + kRoleArn),
                                    HasSubstr("imds " + unreachable_))));
  ExpectNoSecretsIn(chain);
}

TEST_F(ChainTest, NothingConfigured) {
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain, StatusIs(StatusCode::kFailedPrecondition,
                              AllOf(HasSubstr("no such profile"), HasSubstr("USE_IAM"))));
}

// --- profiles of the config file: roles, credential_process, region --------------------------

class ProfileChainTest : public ChainTest {
 protected:
  void SetUp() override {
    ChainTest::SetUp();
    ASSERT_NE(sts_.server, nullptr);
    settings_.sts_endpoint = sts_.server->url();
    settings_.config_file = dir_.Sub("config");
    settings_.credentials_file = dir_.Sub("credentials");
    WriteFile(dir_.Sub("credentials"),
              "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = " +
                  std::string(kSecret) + "\n");
  }

  StsStandIn sts_{"AssumeRole", clock_};
};

TEST_F(ProfileChainTest, RoleArnWithSourceProfileAssumesTheRoleWithTheSourceKeys) {
  WriteFile(dir_.Sub("config"),
            "[profile prod]\nrole_arn = " + std::string(kRoleArn) +
                "\nsource_profile = base\nrole_session_name = nightly\nexternal_id = ext-42\n"
                "region = eu-central-1\n");
  settings_.profile = "prod";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), std::string("sts AssumeRole ") + kRoleArn +
                                      " (base: profile base in " + dir_.Sub("credentials") + ")");
  ExpectStsCredentials((*chain)->Get(), "ASIA1", clock_->NowUnixMillis() + kHourMs);
  ASSERT_EQ(sts_.server->request_count(), 1u);  // asked once, at resolution
  const TestHttpRequest request = sts_.server->requests()[0];
  const std::map<std::string, std::string> form = StsForm(request);
  EXPECT_EQ(form.at("Action"), "AssumeRole");
  EXPECT_EQ(form.at("RoleArn"), kRoleArn);
  EXPECT_EQ(form.at("RoleSessionName"), "nightly");
  EXPECT_EQ(form.at("ExternalId"), "ext-42");
  // Signed with the source profile's keys, in the profile's region.
  EXPECT_THAT(request.Header("authorization"),
              HasSubstr("Credential=AKIDBASE/20190101/eu-central-1/sts/aws4_request"));
}

TEST_F(ProfileChainTest, RolesChainThroughSourceProfiles) {
  WriteFile(dir_.Sub("config"),
            "[profile prod]\nrole_arn = arn:aws:iam::2:role/prod\nsource_profile = hub\n"
            "[profile hub]\nrole_arn = arn:aws:iam::1:role/hub\nsource_profile = base\n");
  settings_.profile = "prod";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  ExpectStsCredentials((*chain)->Get(), "ASIA2", clock_->NowUnixMillis() + kHourMs);
  ASSERT_EQ(sts_.server->request_count(), 2u);
  const std::vector<TestHttpRequest> requests = sts_.server->requests();
  // First the hub role with the base keys, then the prod role with the hub role's credentials.
  EXPECT_EQ(ParseForm(requests[0].body).at("RoleArn"), "arn:aws:iam::1:role/hub");
  EXPECT_THAT(requests[0].Header("authorization"), HasSubstr("Credential=AKIDBASE/"));
  EXPECT_EQ(ParseForm(requests[1].body).at("RoleArn"), "arn:aws:iam::2:role/prod");
  EXPECT_THAT(requests[1].Header("authorization"), HasSubstr("Credential=ASIA1/"));
  EXPECT_EQ(requests[1].Header("x-amz-security-token"), kStsToken);
}

TEST_F(ProfileChainTest, AProfileThatIsItsOwnSourceUsesItsKeys) {
  WriteFile(dir_.Sub("credentials"),
            "[default]\naws_access_key_id = AKIDSELF\naws_secret_access_key = " +
                std::string(kSecret) + "\n");
  WriteFile(dir_.Sub("config"),
            "[default]\nrole_arn = " + std::string(kRoleArn) + "\nsource_profile = default\n");
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  ASSERT_EQ(sts_.server->request_count(), 1u);
  EXPECT_THAT(sts_.server->requests()[0].Header("authorization"),
              HasSubstr("Credential=AKIDSELF/"));
}

TEST_F(ProfileChainTest, BrokenRoleChainsAreReportedNow) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[profile prod]\nrole_arn = r\nsource_profile = a\n[profile a]\nrole_arn = r\n"
       "source_profile = prod\n",
       "source_profile loop: prod -> a -> prod"},
      {"[profile prod]\nrole_arn = r\n", "neither source_profile nor credential_source"},
      {"[profile prod]\nrole_arn = r\nsource_profile = nowhere\n", "source_profile nowhere"},
      {"[profile prod]\nrole_arn = r\nsource_profile = empty\n[profile empty]\nregion = x\n",
       "holds no credentials"},
      {"[profile prod]\nrole_arn = r\ncredential_source = Mars\n", "credential_source \"Mars\""},
      {"[profile prod]\nrole_arn = r\ncredential_source = Environment\n", "AWS_ACCESS_KEY_ID"},
  };
  settings_.profile = "prod";
  for (const auto& [config, expected] : cases) {
    WriteFile(dir_.Sub("config"), config);
    EXPECT_THAT(Chain(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr(expected))) << config;
  }
  EXPECT_EQ(sts_.server->request_count(), 0u);
}

TEST_F(ProfileChainTest, ARoleThatCannotBeAssumedIsReportedNow) {
  sts_.fail = true;
  WriteFile(dir_.Sub("config"),
            "[profile prod]\nrole_arn = " + std::string(kRoleArn) + "\nsource_profile = base\n");
  settings_.profile = "prod";
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain, StatusIs(StatusCode::kUnavailable, HasSubstr(kRoleArn)));
  ExpectNoSecretsIn(chain);
}

TEST_F(ProfileChainTest, CredentialSourceEc2InstanceMetadataAssumesTheRoleWithImds) {
  auto imds = StartServer([this](const TestHttpRequest& r) { return ImdsHandler(r, *clock_); });
  ASSERT_NE(imds, nullptr);
  settings_.ec2_metadata_endpoint = imds->url();
  WriteFile(dir_.Sub("config"), "[default]\nrole_arn = " + std::string(kRoleArn) +
                                    "\ncredential_source = Ec2InstanceMetadata\n");
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(),
            std::string("sts AssumeRole ") + kRoleArn + " (base: imds " + imds->url() + ")");
  ASSERT_EQ(sts_.server->request_count(), 1u);
  EXPECT_THAT(sts_.server->requests()[0].Header("authorization"),
              HasSubstr("Credential=ASIAIMDS/"));
}

TEST_F(ProfileChainTest, CredentialProcessOfTheProfile) {
  WriteFile(dir_.Sub("process.json"),
            "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": \"" +
                std::string(kSecret) + "\"}");
  WriteFile(dir_.Sub("config"),
            "[profile tool]\ncredential_process = cat " + dir_.Sub("process.json") + "\n");
  settings_.profile = "tool";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "credential_process of profile tool in " + dir_.Sub("config"));
  Result<AwsCredentials> got = (*chain)->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "AKIDPROC");

  WriteFile(dir_.Sub("config"), "[profile tool]\ncredential_process = false\n");
  EXPECT_THAT(Chain(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("exited with code 1")));
}

TEST_F(ProfileChainTest, KeysWinOverCredentialProcessInOneProfile) {
  WriteFile(dir_.Sub("config"), "[profile base]\ncredential_process = false\n");
  settings_.profile = "base";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*(*chain)->Get()).keys.access_key_id, "AKIDBASE");
}

TEST_F(ChainTest, AProfileWithoutCredentialsFallsThroughToTheContainer) {
  WriteFile(dir_.Sub("home/.aws/config"), "[default]\nregion = eu-west-3\n");
  auto agent = StartServer([this](const TestHttpRequest&) {
    return TestHttpReply{.body = "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"" +
                                 std::string(kSecret) + "\",\"Token\":\"t\",\"Expiration\":\"" +
                                 FormatRfc3339Millis(clock_->NowUnixMillis() + kHourMs) + "\"}"};
  });
  ASSERT_NE(agent, nullptr);
  settings_.container_relative_uri = "/v2/credentials/task";
  settings_.container_host = agent->url();
  settings_.use_iam = true;  // IMDS comes after the container: not asked
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), "container credentials " + agent->url() + "/v2/credentials/task");
  EXPECT_EQ((*(*chain)->Get()).keys.access_key_id, "ASIAECS");
  EXPECT_EQ(agent->request_count(), 1u);
}

TEST_F(ChainTest, WebIdentityWinsOverTheContainer) {
  StsStandIn sts("AssumeRoleWithWebIdentity", clock_);
  ASSERT_NE(sts.server, nullptr);
  auto agent = StartServer();
  ASSERT_NE(agent, nullptr);
  UseWebIdentity(sts.server->url());
  settings_.container_full_uri = agent->url() + "/creds";
  Result<CredentialsProviderPtr> chain = Chain();
  ASSERT_OK(chain);
  EXPECT_EQ((*chain)->Describe(), std::string("web identity ") + kRoleArn);
  EXPECT_EQ(agent->request_count(), 0u);
}

TEST_F(ChainTest, ARefusedFullUriIsReportedNow) {
  settings_.container_full_uri = "http://10.1.2.3/creds";
  EXPECT_THAT(Chain(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not allowed")));
}

TEST_F(ChainTest, AnUnreachableContainerIsListedWithTheOthers) {
  settings_.container_full_uri = unreachable_ + "/creds";
  settings_.container_authorization_token = "CoNtAiNeRtOkEnzz";
  Result<CredentialsProviderPtr> chain = Chain();
  EXPECT_THAT(chain, StatusIs(StatusCode::kFailedPrecondition,
                              AllOf(HasSubstr("container credentials " + unreachable_),
                                    HasSubstr("imds (USE_IAM not set)"))));
  EXPECT_THAT(chain.status().message(), Not(HasSubstr("CoNtAiNeRtOkEnzz")));
}

// --- the region --------------------------------------------------------------------------------

TEST_F(ChainTest, RegionFromTheEnvironmentThenTheProfileThenImdsThenTheDefault) {
  auto imds = StartServer([](const TestHttpRequest& r) {
    if (r.method == "PUT") return TestHttpReply{.body = kImdsToken};
    if (r.Header("x-aws-ec2-metadata-token") != kImdsToken) return TestHttpReply{.status = 401};
    if (r.target == "/latest/meta-data/placement/region") {
      return TestHttpReply{.body = "ap-southeast-2"};
    }
    return TestHttpReply{.status = 404};
  });
  ASSERT_NE(imds, nullptr);
  std::shared_ptr<HttpClient> http = Curl();

  ResolvedRegion fallback = ResolveRegion(settings_, *http);
  EXPECT_EQ(fallback.region, "us-east-1");
  EXPECT_EQ(fallback.source, "default");

  settings_.use_iam = true;  // IMDS unreachable: the default, saying why
  fallback = ResolveRegion(settings_, *http);
  EXPECT_EQ(fallback.region, "us-east-1");
  EXPECT_THAT(fallback.source, HasSubstr("imds " + unreachable_));

  settings_.ec2_metadata_endpoint = imds->url();
  ResolvedRegion from_imds = ResolveRegion(settings_, *http);
  EXPECT_EQ(from_imds.region, "ap-southeast-2");
  EXPECT_EQ(from_imds.source, "imds");

  WriteFile(dir_.Sub("home/.aws/config"),
            "[default]\nregion = eu-west-3\n[profile p]\n"
            "region = sa-east-1\n");
  EXPECT_EQ(ResolveRegion(settings_, *http).region, "eu-west-3");
  settings_.profile = "p";
  ResolvedRegion from_profile = ResolveRegion(settings_, *http);
  EXPECT_EQ(from_profile.region, "sa-east-1");
  EXPECT_EQ(from_profile.source, "profile p in " + dir_.Sub("home/.aws/config"));

  settings_.region = "ca-central-1";
  EXPECT_EQ(ResolveRegion(settings_, *http).region, "ca-central-1");
  EXPECT_EQ(imds->request_count(), 2u);  // token + region, once
}

// --- no secrets anywhere -----------------------------------------------------------------------

TEST(CredentialsSecretsTest, DescriptionsCarryNoSecrets) {
  ScratchDir dir;
  WriteFile(dir.Sub("token"), kWebToken);
  CredentialsSettings settings;
  settings.access_key_id = "AKID";
  settings.secret_access_key = kSecret;
  settings.session_token = kSessionToken;
  settings.web_identity_token_file = dir.Sub("token");
  settings.role_arn = kRoleArn;
  settings.sts_endpoint = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  settings.sleep = NoWait();
  auto clock = std::make_shared<FakeClock>();
  Result<CredentialsProviderPtr> chain = NewDefaultCredentialsChain(settings, Curl(), clock);
  ASSERT_OK(chain);
  ExpectNoSecrets((*chain)->Describe());
  CredentialsProviderPtr web = NewWebIdentityProvider(settings, Curl(), clock);
  ExpectNoSecrets(web->Describe());
  ExpectNoSecretsIn(web->Get());
  CredentialsProviderPtr assumed = NewAssumeRoleProvider(*chain, kRoleArn, settings, Curl(), clock);
  ExpectNoSecrets(assumed->Describe());
  ExpectNoSecretsIn(assumed->Get());
  ExpectNoSecrets(NewImdsProvider(settings, Curl(), clock)->Describe());
}

}  // namespace
}  // namespace vpcflow
