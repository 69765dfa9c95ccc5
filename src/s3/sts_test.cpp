#include "s3/sts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class WebIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(sts_.server, nullptr);
    settings_ = WebIdentitySettings(dir_, sts_.server->url());
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  StsStandIn sts_{"AssumeRoleWithWebIdentity", clock_};
  ScratchDir dir_;
  std::string token_file_ = dir_.Sub("token");
  CredentialsSettings settings_;
};

TEST_F(WebIdentityTest, SendsAnUnsignedAssumeRoleWithWebIdentity) {
  CredentialsProviderPtr provider = NewWebIdentityProvider(settings_, Curl(), clock_);
  EXPECT_EQ(provider->Describe(), std::string("web identity ") + kRoleArn);
  ExpectStsCredentials(provider->Get(), "ASIA1", clock_->NowUnixMillis() + kHourMs);

  ASSERT_EQ(sts_.server->request_count(), 1u);
  const TestHttpRequest request = sts_.server->requests()[0];
  EXPECT_EQ(request.Header("authorization"), "");
  const std::map<std::string, std::string> form = StsForm(request);
  EXPECT_EQ(form.at("Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(form.at("RoleArn"), kRoleArn);
  EXPECT_EQ(form.at("RoleSessionName"), "vpcflow-digesterd");
  EXPECT_EQ(form.at("WebIdentityToken"), kWebToken);
  EXPECT_EQ(form.at("Version"), "2011-06-15");
}

TEST_F(WebIdentityTest, RereadsTheRotatedTokenOnRefresh) {
  settings_.role_session_name = "my-session";
  CredentialsProviderPtr provider = NewWebIdentityProvider(settings_, Curl(), clock_);
  ASSERT_OK(provider->Get());
  WriteFile(token_file_, "rotated-token\n");
  clock_->AdvanceMillis(56 * kMinuteMs);  // inside the 5 min margin
  Result<AwsCredentials> got = provider->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "ASIA2");
  ASSERT_EQ(sts_.server->request_count(), 2u);
  const std::map<std::string, std::string> form = ParseForm(sts_.server->requests()[1].body);
  EXPECT_EQ(form.at("WebIdentityToken"), "rotated-token");
  EXPECT_EQ(form.at("RoleSessionName"), "my-session");
}

TEST_F(WebIdentityTest, MissingTokenFileIsFailedPrecondition) {
  settings_.web_identity_token_file = dir_.Sub("missing");
  Result<AwsCredentials> got = NewWebIdentityProvider(settings_, Curl(), clock_)->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kFailedPrecondition, HasSubstr(dir_.Sub("missing"))));
  EXPECT_EQ(sts_.server->request_count(), 0u);
}

TEST(WebIdentityErrorTest, RefusalIsPermissionDeniedWithoutTheToken) {
  ScratchDir dir;
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Push(
      {.status = 400, .body = StsErrorXml("InvalidIdentityToken", "Incorrect token audience")});
  Result<AwsCredentials> got = NewWebIdentityProvider(WebIdentitySettings(dir, server->url()),
                                                      Curl(), std::make_shared<FakeClock>())
                                   ->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kPermissionDenied,
                            AllOf(HasSubstr(kRoleArn), HasSubstr("InvalidIdentityToken"))));
  ExpectNoSecretsIn(got);
  EXPECT_EQ(server->request_count(), 1u);  // a refusal is not retried
}

TEST(WebIdentityErrorTest, RetriesTransientErrors) {
  ScratchDir dir;
  auto clock = std::make_shared<FakeClock>();
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->PushStatus(503);
  server->Push({.status = 400, .body = StsErrorXml("Throttling", "Rate exceeded")});
  server->Push(
      {.body = StsXml("AssumeRoleWithWebIdentity", "ASIAOK", clock->NowUnixMillis() + kHourMs)});
  Result<AwsCredentials> got =
      NewWebIdentityProvider(WebIdentitySettings(dir, server->url()), Curl(), clock)->Get();
  ExpectStsCredentials(got, "ASIAOK", clock->NowUnixMillis() + kHourMs);
  EXPECT_EQ(server->request_count(), 3u);
}

TEST(WebIdentityErrorTest, UnreachableStsIsUnavailable) {
  ScratchDir dir;
  const std::string refused = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  Result<AwsCredentials> got = NewWebIdentityProvider(WebIdentitySettings(dir, refused), Curl(),
                                                      std::make_shared<FakeClock>())
                                   ->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable, HasSubstr(kRoleArn)));
  ExpectNoSecretsIn(got);
}

// --- refresh and caching -----------------------------------------------------------------------

TEST_F(WebIdentityTest, RefreshesOnlyInsideTheMarginThenFallsBackThenFails) {
  CredentialsProviderPtr provider = NewWebIdentityProvider(settings_, Curl(), clock_);
  ASSERT_OK(provider->Get());
  ASSERT_OK(provider->Get());
  clock_->AdvanceMillis(54 * kMinuteMs);  // 6 minutes left: still fresh
  Result<AwsCredentials> fresh = provider->Get();
  ASSERT_OK(fresh);
  EXPECT_EQ(fresh->keys.access_key_id, "ASIA1");
  EXPECT_EQ(sts_.server->request_count(), 1u);

  clock_->AdvanceMillis(2 * kMinuteMs);  // 4 minutes left: inside the margin
  Result<AwsCredentials> refreshed = provider->Get();
  ASSERT_OK(refreshed);
  EXPECT_EQ(refreshed->keys.access_key_id, "ASIA2");
  EXPECT_EQ(sts_.server->request_count(), 2u);
  const int64_t expires = refreshed->expires_unix_ms;

  // STS fails while the cached credentials are still valid: they are returned.
  sts_.fail = true;
  clock_->AdvanceMillis(57 * kMinuteMs);  // 3 minutes left
  Result<AwsCredentials> stale = provider->Get();
  ASSERT_OK(stale);
  EXPECT_EQ(stale->keys.access_key_id, "ASIA2");
  const size_t after_fallback = sts_.server->request_count();
  EXPECT_GT(after_fallback, 2u);  // tried (with retries)
  // No new attempt at every call right after a failure.
  ASSERT_OK(provider->Get());
  EXPECT_EQ(sts_.server->request_count(), after_fallback);

  // Once they expired, the error.
  clock_->SetUnixMillis(expires);
  Result<AwsCredentials> expired = provider->Get();
  EXPECT_THAT(expired,
              StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("expired"), HasSubstr(kRoleArn))));
  ExpectNoSecretsIn(expired);

  // And it recovers when STS does.
  sts_.fail = false;
  Result<AwsCredentials> recovered = provider->Get();
  ASSERT_OK(recovered);
  EXPECT_EQ(recovered->keys.access_key_id, "ASIA3");
}

TEST_F(WebIdentityTest, ShortLivedCredentialsAreNotRefetchedAtEveryCall) {
  sts_.lifetime_ms = 4 * kMinuteMs;  // less than the 5 minute margin
  CredentialsProviderPtr provider = NewWebIdentityProvider(settings_, Curl(), clock_);
  ASSERT_OK(provider->Get());
  ASSERT_OK(provider->Get());
  clock_->AdvanceMillis(kMinuteMs);
  ASSERT_OK(provider->Get());
  EXPECT_EQ(sts_.server->request_count(), 1u);
  clock_->AdvanceMillis(kMinuteMs + 1);  // past half their life
  ASSERT_OK(provider->Get());
  EXPECT_EQ(sts_.server->request_count(), 2u);
}

// --- AssumeRole --------------------------------------------------------------------------------

class AssumeRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(sts_.server, nullptr);
    settings_.sts_endpoint = sts_.server->url();
    settings_.region = "eu-central-1";
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  StsStandIn sts_{"AssumeRole", clock_};
  CredentialsSettings settings_;
};

TEST_F(AssumeRoleTest, SignsWithTheBaseCredentialsAndSessionToken) {
  CredentialsProviderPtr base =
      NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, kSessionToken}}, "environment");
  CredentialsProviderPtr provider =
      NewAssumeRoleProvider(base, kRoleArn, settings_, Curl(), clock_);
  EXPECT_EQ(provider->Describe(),
            std::string("sts AssumeRole ") + kRoleArn + " (base: environment)");
  ExpectStsCredentials(provider->Get(), "ASIA1", clock_->NowUnixMillis() + kHourMs);

  ASSERT_EQ(sts_.server->request_count(), 1u);
  const TestHttpRequest request = sts_.server->requests()[0];
  const std::map<std::string, std::string> form = StsForm(request);
  EXPECT_EQ(request.Header("x-amz-security-token"), kSessionToken);
  EXPECT_THAT(request.Header("authorization"),
              StartsWith("AWS4-HMAC-SHA256 Credential=AKIDBASE/20190101/eu-central-1/sts/"
                         "aws4_request,"));
  EXPECT_EQ(request.Header("x-amz-content-sha256"), Sha256Hex(request.body));
  EXPECT_EQ(form.at("Action"), "AssumeRole");
  EXPECT_EQ(form.at("RoleArn"), kRoleArn);
  EXPECT_EQ(form.at("RoleSessionName"), "vpcflow-digesterd");
  EXPECT_EQ(form.at("Version"), "2011-06-15");
  EXPECT_EQ(form.at("DurationSeconds"), "3600");

  // The signature is the one of what arrived (Host as sent, the body's hash).
  const SigV4Request resigned{.method = "POST",
                              .path = "/",
                              .query = {},
                              .headers = {{"host", request.Header("host")},
                                          {"content-type", request.Header("content-type")}},
                              .payload_hash = Sha256Hex(request.body)};
  const SigV4Signature expected = SignV4(resigned, {"AKIDBASE", kSecret, kSessionToken},
                                         "eu-central-1", "sts", clock_->NowUnixMillis() / 1000);
  EXPECT_EQ(request.Header("authorization"), expected.authorization);
}

TEST_F(AssumeRoleTest, NoSecurityTokenHeaderForLongTermBaseKeys) {
  CredentialsProviderPtr provider = NewAssumeRoleProvider(
      NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, ""}}, "environment"), kRoleArn,
      settings_, Curl(), clock_);
  ASSERT_OK(provider->Get());
  ASSERT_EQ(sts_.server->request_count(), 1u);
  EXPECT_EQ(sts_.server->requests()[0].Header("x-amz-security-token"), "");
  EXPECT_THAT(sts_.server->requests()[0].Header("authorization"), HasSubstr("AKIDBASE/"));
}

TEST(AssumeRoleErrorTest, StsErrorIsPermissionDeniedNamingTheRole) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Push({.status = 403,
                .body = StsErrorXml("AccessDenied",
                                    "User: arn:aws:iam::1:user/u is not "
                                    "authorized to perform: sts:AssumeRole")});
  CredentialsSettings settings;
  settings.sts_endpoint = server->url();
  CredentialsProviderPtr provider = NewAssumeRoleProvider(
      NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, kSessionToken}}, "environment"),
      kRoleArn, settings, Curl(), std::make_shared<FakeClock>());
  Result<AwsCredentials> got = provider->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kPermissionDenied,
                            AllOf(HasSubstr(kRoleArn), HasSubstr("AccessDenied"),
                                  HasSubstr("not authorized"))));
  ExpectNoSecretsIn(got);
  ExpectNoSecrets(provider->Describe());
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(AssumeRoleErrorTest, BaseFailureIsReportedWithContext) {
  ScratchDir dir;
  CredentialsSettings base_settings;
  base_settings.web_identity_token_file = dir.Sub("missing-token");
  base_settings.role_arn = "arn:aws:iam::1:role/base";
  base_settings.sts_endpoint = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  auto clock = std::make_shared<FakeClock>();
  CredentialsProviderPtr base = NewWebIdentityProvider(base_settings, Curl(), clock);
  CredentialsSettings settings;
  settings.sts_endpoint = base_settings.sts_endpoint;
  Result<AwsCredentials> got =
      NewAssumeRoleProvider(base, kRoleArn, settings, Curl(), clock)->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kFailedPrecondition,
                            AllOf(HasSubstr(kRoleArn), HasSubstr("missing-token"))));
}

TEST(AssumeRoleErrorTest, MalformedAnswerIsUnavailable) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  server->Push({.body = "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"});
  CredentialsSettings settings;
  settings.sts_endpoint = server->url();
  Result<AwsCredentials> got =
      NewAssumeRoleProvider(
          NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, ""}}, "environment"),
          kRoleArn, settings, Curl(), std::make_shared<FakeClock>())
          ->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kUnavailable, HasSubstr("unexpected answer")));
}

}  // namespace
}  // namespace vpcflow
