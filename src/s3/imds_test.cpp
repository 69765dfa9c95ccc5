#include "s3/imds.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ImdsTest, TokenThenRoleThenCredentials) {
  auto clock = std::make_shared<FakeClock>();
  auto server = StartServer([&clock](const TestHttpRequest& r) { return ImdsHandler(r, *clock); });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = server->url() + "/";
  CredentialsProviderPtr provider = NewImdsProvider(settings, Curl(), clock);
  EXPECT_EQ(provider->Describe(), "imds " + server->url());
  Result<AwsCredentials> got = provider->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "ASIAIMDS");
  EXPECT_EQ(got->keys.secret_access_key, kSecret);
  EXPECT_EQ(got->keys.session_token, kSessionToken);
  EXPECT_EQ(got->expires_unix_ms, clock->NowUnixMillis() + kHourMs);

  const std::vector<TestHttpRequest> requests = server->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/latest/api/token");
  EXPECT_EQ(requests[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].Header("x-aws-ec2-metadata-token"), kImdsToken);
  EXPECT_EQ(requests[2].target, "/latest/meta-data/iam/security-credentials/digester-role");
  EXPECT_EQ(requests[2].Header("x-aws-ec2-metadata-token"), kImdsToken);

  // Cached until inside the margin.
  ASSERT_OK(provider->Get());
  EXPECT_EQ(server->request_count(), 3u);
  clock->AdvanceMillis(56 * kMinuteMs);
  ASSERT_OK(provider->Get());
  EXPECT_EQ(server->request_count(), 6u);
}

TEST(ImdsTest, RefusedTokenFails) {
  auto server = StartServer([](const TestHttpRequest&) { return TestHttpReply{.status = 401}; });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = server->url();
  Result<AwsCredentials> got =
      NewImdsProvider(settings, Curl(), std::make_shared<FakeClock>())->Get();
  EXPECT_THAT(got,
              StatusIs(StatusCode::kPermissionDenied, AllOf(HasSubstr("imds"), HasSubstr("401"))));
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(ImdsTest, NoRoleIsFailedPrecondition) {
  auto server = StartServer([](const TestHttpRequest& r) {
    return r.method == "PUT" ? TestHttpReply{.body = kImdsToken} : TestHttpReply{.status = 404};
  });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = server->url();
  EXPECT_THAT(NewImdsProvider(settings, Curl(), std::make_shared<FakeClock>())->Get(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("no IAM role")));
}

TEST(ImdsTest, ErrorCodeInTheJsonFails) {
  auto server = StartServer([](const TestHttpRequest& r) {
    if (r.method == "PUT") return TestHttpReply{.body = kImdsToken};
    if (r.target.back() == '/') return TestHttpReply{.body = "role"};
    return TestHttpReply{.body = "{\"Code\":\"AssumeRoleUnauthorizedAccess\"}"};
  });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = server->url();
  EXPECT_THAT(NewImdsProvider(settings, Curl(), std::make_shared<FakeClock>())->Get(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("AssumeRoleUnauthorizedAccess")));
}

TEST(ImdsTest, NoMetadataServiceFailsFast) {
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  settings.sleep = NoWait();
  EXPECT_THAT(NewImdsProvider(settings, Curl(), std::make_shared<FakeClock>())->Get(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("imds")));
}

TEST(ImdsRegionTest, ReadsThePlacementRegionWithTheToken) {
  std::string answer = "eu-north-1\n";
  auto server = StartServer([&answer](const TestHttpRequest& r) {
    if (r.method == "PUT") return TestHttpReply{.body = kImdsToken};
    if (r.Header("x-aws-ec2-metadata-token") != kImdsToken) return TestHttpReply{.status = 401};
    return TestHttpReply{.body = answer};
  });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.ec2_metadata_endpoint = server->url();
  std::shared_ptr<HttpClient> http = Curl();
  Result<std::string> region = ImdsRegion(settings, *http);
  ASSERT_OK(region);
  EXPECT_EQ(*region, "eu-north-1");
  ASSERT_EQ(server->request_count(), 2u);
  EXPECT_EQ(server->requests()[1].target, "/latest/meta-data/placement/region");

  answer = "<html>not a region</html>";
  EXPECT_THAT(ImdsRegion(settings, *http),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a region name")));
}

}  // namespace
}  // namespace vpcflow
