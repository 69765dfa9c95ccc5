#include "s3/container_credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kAuthToken[] = "CoNtAiNeRaUtHtOkEnzz";

// The ECS/EKS agent's answer: credentials valid for an hour from the clock's now.
std::string ContainerJson(const std::string& key_id, int64_t expires_ms) {
  return "{\"AccessKeyId\":\"" + key_id + "\",\"SecretAccessKey\":\"" + std::string(kSecret) +
         "\",\"Token\":\"" + kSessionToken + "\",\"Expiration\":\"" +
         FormatRfc3339Millis(expires_ms) + "\",\"RoleArn\":\"" + kRoleArn + "\"}";
}

class ContainerCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServer([this](const TestHttpRequest&) {
      return TestHttpReply{.body =
                               ContainerJson("ASIACONTAINER", clock_->NowUnixMillis() + kHourMs)};
    });
    ASSERT_NE(server_, nullptr);
    settings_.sleep = NoWait();
  }

  Result<AwsCredentials> Get() {
    Result<CredentialsProviderPtr> provider = NewContainerProvider(settings_, Curl(), clock_);
    if (!provider.ok()) return provider.status();
    return (*provider)->Get();
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<TestHttpServer> server_;
  CredentialsSettings settings_;
  ScratchDir dir_;
};

TEST_F(ContainerCredentialsTest, RelativeUriIsAskedOfTheAgentHost) {
  settings_.container_relative_uri = "/v2/credentials/5a1b-task";
  settings_.container_host = server_->url();
  Result<CredentialsProviderPtr> provider = NewContainerProvider(settings_, Curl(), clock_);
  ASSERT_OK(provider);
  EXPECT_EQ((*provider)->Describe(),
            "container credentials " + server_->url() + "/v2/credentials/5a1b-task");
  Result<AwsCredentials> got = (*provider)->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "ASIACONTAINER");
  EXPECT_EQ(got->keys.secret_access_key, kSecret);
  EXPECT_EQ(got->keys.session_token, kSessionToken);
  EXPECT_EQ(got->expires_unix_ms, clock_->NowUnixMillis() + kHourMs);
  ASSERT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(server_->requests()[0].method, "GET");
  EXPECT_EQ(server_->requests()[0].target, "/v2/credentials/5a1b-task");
  EXPECT_EQ(server_->requests()[0].Header("authorization"), "");

  // Cached, then refreshed inside the margin.
  ASSERT_OK((*provider)->Get());
  EXPECT_EQ(server_->request_count(), 1u);
  clock_->AdvanceMillis(56 * kMinuteMs);
  ASSERT_OK((*provider)->Get());
  EXPECT_EQ(server_->request_count(), 2u);
}

TEST_F(ContainerCredentialsTest, FullUriSendsTheAuthorizationToken) {
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  settings_.container_authorization_token = kAuthToken;
  ASSERT_OK(Get());
  ASSERT_EQ(server_->request_count(), 1u);
  EXPECT_EQ(server_->requests()[0].target, "/v1/credentials");
  EXPECT_EQ(server_->requests()[0].Header("authorization"), kAuthToken);
}

TEST_F(ContainerCredentialsTest, TheTokenFileWinsAndIsRereadAtEveryRefresh) {
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  settings_.container_authorization_token = "from-the-variable";
  settings_.container_authorization_token_file = dir_.Sub("token");
  WriteFile(dir_.Sub("token"), "eks-token-1\n");
  Result<CredentialsProviderPtr> provider = NewContainerProvider(settings_, Curl(), clock_);
  ASSERT_OK(provider);
  ASSERT_OK((*provider)->Get());
  WriteFile(dir_.Sub("token"), "eks-token-2");
  clock_->AdvanceMillis(56 * kMinuteMs);
  ASSERT_OK((*provider)->Get());
  ASSERT_EQ(server_->request_count(), 2u);
  EXPECT_EQ(server_->requests()[0].Header("authorization"), "eks-token-1");
  EXPECT_EQ(server_->requests()[1].Header("authorization"), "eks-token-2");
}

TEST_F(ContainerCredentialsTest, AMissingTokenFileIsFailedPrecondition) {
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  settings_.container_authorization_token_file = dir_.Sub("missing");
  EXPECT_THAT(Get(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr(dir_.Sub("missing"))));
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(ContainerCredentialsTest, ATokenWithALineBreakIsRefused) {
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  settings_.container_authorization_token = std::string(kAuthToken) + "\r\nX-Injected: 1";
  Result<AwsCredentials> got = Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument, HasSubstr("line break")));
  EXPECT_THAT(got.status().message(), ::testing::Not(HasSubstr(kAuthToken)));
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(ContainerCredentialsTest, RefusalIsPermissionDeniedWithoutSecrets) {
  auto refusing = StartServer([](const TestHttpRequest&) { return TestHttpReply{.status = 403}; });
  ASSERT_NE(refusing, nullptr);
  settings_.container_full_uri = refusing->url() + "/v1/credentials?token=QuErYsEcReT";
  settings_.container_authorization_token = kAuthToken;
  Result<AwsCredentials> got = Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kPermissionDenied,
                            AllOf(HasSubstr("container credentials"), HasSubstr("403"))));
  EXPECT_THAT(got.status().message(), ::testing::Not(HasSubstr(kAuthToken)));
  EXPECT_THAT(got.status().message(), ::testing::Not(HasSubstr("QuErYsEcReT")));
  EXPECT_EQ(refusing->request_count(), 1u);  // a refusal is not retried
}

TEST_F(ContainerCredentialsTest, TransientErrorsAreRetriedThroughTheSleeper) {
  RecordingSleeper sleeper;
  settings_.sleep = sleeper.AsSleeper();
  server_->PushStatus(503);
  server_->PushStatus(500);
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  ASSERT_OK(Get());
  EXPECT_EQ(server_->request_count(), 3u);
  EXPECT_EQ(sleeper.waits().size(), 2u);
}

TEST_F(ContainerCredentialsTest, UnusableAnswersAreUnavailable) {
  settings_.container_full_uri = server_->url() + "/v1/credentials";
  server_->Push({.body = "not json"});
  EXPECT_THAT(Get(), StatusIs(StatusCode::kUnavailable, HasSubstr("not a JSON object")));
  server_->Push({.body = "{\"AccessKeyId\":\"A\"}"});
  EXPECT_THAT(Get(), StatusIs(StatusCode::kUnavailable, HasSubstr("SecretAccessKey")));
  server_->Push({.body = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"" + std::string(kSecret) +
                         "\",\"Expiration\":\"soon\"}"});
  Result<AwsCredentials> got = Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable, HasSubstr("Expiration")));
  ExpectNoSecretsIn(got);
}

TEST_F(ContainerCredentialsTest, AFullUriToAnotherHostOverHttpIsRefused) {
  settings_.container_full_uri = "http://user:pw@169.254.169.254/latest";
  Result<AwsCredentials> got = Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kInvalidArgument, HasSubstr("not allowed")));
  EXPECT_THAT(got.status().message(), ::testing::Not(HasSubstr("pw@")));
}

TEST(ContainerUriTest, AllowsHttpsAndLoopbackEcsEksOverHttp) {
  for (const char* ok :
       {"https://creds.example.com/x", "http://127.0.0.1:8080/creds", "http://127.1.2.3/creds",
        "http://localhost/creds", "http://[::1]:9/c", "http://169.254.170.2/v2/credentials",
        "http://169.254.170.23/v1/creds", "http://[fd00:ec2::23]/v1/credentials"}) {
    EXPECT_TRUE(IsAllowedContainerUri(ok)) << ok;
  }
  for (const char* refused : {"http://169.254.169.254/latest", "http://10.0.0.1/creds",
                              "http://example.com/creds", "http://128.0.0.1/", "ftp://127.0.0.1/",
                              "127.0.0.1:80/creds", "", "http:///x", "http://[fd00:ec2::24]/"}) {
    EXPECT_FALSE(IsAllowedContainerUri(refused)) << refused;
  }
}

}  // namespace
}  // namespace vpcflow
