#include "s3/credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "modules/text_format.hpp"
#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/test_http_server.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Distinctive secrets: no message or description may ever contain them.
constexpr char kSecret[] = "SeCrEtKeY0wJalrXUtnFEMIzz";
constexpr char kSessionToken[] = "SeSsIoNtOkEn0FwoGZXIvYXdzzz";
constexpr char kWebToken[] = "WeBiDeNtItYtOkEn0eyJhbGciOizz";
constexpr char kStsSecret[] = "StSsEcReT0fromTheStandInzz";
constexpr char kStsToken[] = "StStOkEn0fromTheStandInzz";
constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/digester";
constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kMinuteMs = 60 * 1000;

void ExpectNoSecrets(const std::string& text) {
  for (const char* secret : {kSecret, kSessionToken, kWebToken, kStsSecret, kStsToken}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
}

template <typename T>
void ExpectNoSecretsIn(const Result<T>& result) {
  ExpectNoSecrets(result.status().message());
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const size_t eq = pair.find('=');
    fields[PercentDecode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return fields;
}

// An STS success answer for `action` ("AssumeRole", "AssumeRoleWithWebIdentity").
std::string StsXml(const std::string& action, const std::string& key_id, int64_t expires_ms) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>" + key_id + "</AccessKeyId><SecretAccessKey>" +
         kStsSecret + "</SecretAccessKey><SessionToken>" + kStsToken +
         "</SessionToken><Expiration>" + FormatRfc3339Millis(expires_ms) +
         "</Expiration></Credentials></" + action + "Result><ResponseMetadata><RequestId>r" +
         "</RequestId></ResponseMetadata></" + action + "Response>";
}

std::string StsErrorXml(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
         "<Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>r</RequestId>" +
         "</ErrorResponse>";
}

std::shared_ptr<HttpClient> Curl() { return std::shared_ptr<HttpClient>(NewCurlHttpClient()); }

std::unique_ptr<TestHttpServer> StartServer(TestHttpServer::Handler handler = nullptr) {
  Result<std::unique_ptr<TestHttpServer>> server = TestHttpServer::Start(std::move(handler));
  EXPECT_OK(server);
  return server.ok() ? std::move(server).value() : nullptr;
}

// Settings for web identity against `sts_url`, the token (kWebToken) written into `dir`.
CredentialsSettings WebIdentitySettings(const ScratchDir& dir, const std::string& sts_url) {
  WriteFile(dir.Sub("token"), kWebToken);
  CredentialsSettings settings;
  settings.web_identity_token_file = dir.Sub("token");
  settings.role_arn = kRoleArn;
  settings.sts_endpoint = sts_url;
  return settings;
}

// Checks an STS answer of StsStandIn / StsXml.
void ExpectStsCredentials(const Result<AwsCredentials>& got, const std::string& key_id,
                          int64_t expires_ms) {
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, key_id);
  EXPECT_EQ(got->keys.secret_access_key, kStsSecret);
  EXPECT_EQ(got->keys.session_token, kStsToken);
  EXPECT_EQ(got->expires_unix_ms, expires_ms);
}

// Checks the form POST to "/" an STS stand-in received and returns its fields.
std::map<std::string, std::string> StsForm(const TestHttpRequest& request) {
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  EXPECT_EQ(request.Header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  return ParseForm(request.body);
}

// --- settings ----------------------------------------------------------------------------------

TEST(CredentialsSettingsTest, OlderServiceNamesWinOverSdkNames) {
  const CredentialsSettings s = CredentialsSettingsFromEnvironment({
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
      {"HOME", "/home/u"},
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
  EXPECT_EQ(s.home, "/home/u");
}

TEST(CredentialsSettingsTest, FallsBackToSdkNamesAndDefaults) {
  const CredentialsSettings s = CredentialsSettingsFromEnvironment({
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

  const CredentialsSettings empty = CredentialsSettingsFromEnvironment({});
  EXPECT_EQ(empty.access_key_id, "");
  EXPECT_EQ(empty.profile, "");
  EXPECT_EQ(empty.region, "");
}

TEST(CredentialsSettingsTest, UseIamAcceptsTheUsualSpellings) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "Yes"}) {
    EXPECT_TRUE(CredentialsSettingsFromEnvironment({{"USE_IAM", yes}}).use_iam) << yes;
  }
  for (const char* no : {"false", "0", "no", "", "maybe"}) {
    EXPECT_FALSE(CredentialsSettingsFromEnvironment({{"USE_IAM", no}}).use_iam) << no;
  }
}

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

// --- profile file ------------------------------------------------------------------------------

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

// --- STS and IMDS stand-ins --------------------------------------------------------------------

// An STS stand-in answering `action` with credentials valid for an hour from the clock's now;
// key ids "ASIA1", "ASIA2", ... in order. With `fail` set it answers 503.
struct StsStandIn {
  StsStandIn(std::string action, std::shared_ptr<FakeClock> clock)
      : action(std::move(action)), clock(std::move(clock)) {
    server = StartServer([this](const TestHttpRequest&) {
      if (fail.load()) return TestHttpReply{.status = 503};
      const int n = ++answered;
      return TestHttpReply{.body = StsXml(this->action, "ASIA" + std::to_string(n),
                                          this->clock->NowUnixMillis() + lifetime_ms.load())};
    });
  }

  std::string action;
  std::shared_ptr<FakeClock> clock;
  std::atomic<bool> fail{false};
  std::atomic<int> answered{0};
  std::atomic<int64_t> lifetime_ms{kHourMs};
  std::unique_ptr<TestHttpServer> server;
};

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

// A handler that holds the first request until Open().
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Runs Get() on 8 threads while the stand-in holds the first STS request; returns the key ids.
std::vector<Result<AwsCredentials>> GetOnEightThreads(CredentialsProvider& provider,
                                                      TestHttpServer& server, size_t before,
                                                      Gate& gate) {
  std::vector<Result<AwsCredentials>> results(8, Result<AwsCredentials>(InternalError("unset")));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = provider.Get(); });
  }
  EXPECT_TRUE(server.WaitForRequests(before + 1));
  gate.Open();
  for (std::thread& t : threads) t.join();
  return results;
}

TEST(CachingConcurrencyTest, EightThreadsShareOneRefreshWhenNothingIsCached) {
  auto clock = std::make_shared<FakeClock>();
  Gate gate;
  std::atomic<int> n{0};
  auto server = StartServer([&](const TestHttpRequest&) {
    gate.Wait();
    return TestHttpReply{.body = StsXml("AssumeRoleWithWebIdentity", "ASIA" + std::to_string(++n),
                                        clock->NowUnixMillis() + kHourMs)};
  });
  ASSERT_NE(server, nullptr);
  ScratchDir dir;
  CredentialsProviderPtr provider =
      NewWebIdentityProvider(WebIdentitySettings(dir, server->url()), Curl(), clock);

  for (const Result<AwsCredentials>& got : GetOnEightThreads(*provider, *server, 0, gate)) {
    ASSERT_OK(got);
    EXPECT_EQ(got->keys.access_key_id, "ASIA1");
  }
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(CachingConcurrencyTest, EightThreadsAcrossARefreshMakeOneRequest) {
  auto clock = std::make_shared<FakeClock>();
  auto gate = std::make_shared<Gate>();
  std::atomic<int> n{0};
  auto server = StartServer([&](const TestHttpRequest&) {
    if (n.load() > 0) gate->Wait();  // the first answer comes at once, the refresh is held
    return TestHttpReply{.body = StsXml("AssumeRole", "ASIA" + std::to_string(++n),
                                        clock->NowUnixMillis() + kHourMs)};
  });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.sts_endpoint = server->url();
  CredentialsProviderPtr provider = NewAssumeRoleProvider(
      NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, ""}}, "environment"), kRoleArn,
      settings, Curl(), clock);
  ASSERT_OK(provider->Get());
  clock->AdvanceMillis(57 * kMinuteMs);  // inside the margin, still valid

  for (const Result<AwsCredentials>& got : GetOnEightThreads(*provider, *server, 1, *gate)) {
    ASSERT_OK(got);  // the cached ASIA1 while the refresh runs, or ASIA2
  }
  EXPECT_EQ(server->request_count(), 2u);
  Result<AwsCredentials> after = provider->Get();
  ASSERT_OK(after);
  EXPECT_EQ(after->keys.access_key_id, "ASIA2");
  EXPECT_EQ(server->request_count(), 2u);
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

// --- IMDSv2 ------------------------------------------------------------------------------------

constexpr char kImdsToken[] = "ImDsSeSsIoNtOkEnzz";

// IMDSv2 stand-in: a token for a PUT with the TTL header; 401 for GETs without that token.
TestHttpReply ImdsHandler(const TestHttpRequest& request, const FakeClock& clock) {
  if (request.method == "PUT" && request.target == "/latest/api/token") {
    if (request.Header("x-aws-ec2-metadata-token-ttl-seconds") != "21600") return {.status = 400};
    return {.body = kImdsToken};
  }
  if (request.Header("x-aws-ec2-metadata-token") != kImdsToken) return {.status = 401};
  if (request.target == "/latest/meta-data/iam/security-credentials/") {
    return {.body = "digester-role\n"};
  }
  if (request.target == "/latest/meta-data/iam/security-credentials/digester-role") {
    return {.body =
                "{\"Code\":\"Success\",\"LastUpdated\":\"2019-01-01T00:00:00Z\","
                "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"" +
                std::string(kSecret) + "\",\"Token\":\"" + kSessionToken + "\",\"Expiration\":\"" +
                FormatRfc3339Millis(clock.NowUnixMillis() + kHourMs) + "\"}"};
  }
  return {.status = 404};
}

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
  EXPECT_THAT(NewImdsProvider(settings, Curl(), std::make_shared<FakeClock>())->Get(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("imds")));
}

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
                              AllOf(HasSubstr("does not exist"), HasSubstr("USE_IAM"))));
}

// --- no secrets anywhere -----------------------------------------------------------------------

TEST(CredentialsSecretsTest, DescriptionsCarryNoSecrets) {
  ScratchDir dir;
  WriteFile(dir.Sub("token"), kWebToken);
  CredentialsSettings settings = CredentialsSettingsFromEnvironment({
      {"AWS_ACCESS_KEY_ID", "AKID"},
      {"AWS_SECRET_ACCESS_KEY", kSecret},
      {"AWS_SESSION_TOKEN", kSessionToken},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", dir.Sub("token")},
      {"AWS_ROLE_ARN", kRoleArn},
  });
  settings.sts_endpoint = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
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
