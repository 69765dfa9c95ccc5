#pragma once
/// Stand-ins and checks for the tests of the AWS credential sources (src/s3): distinctive
/// secrets that no message may contain, STS answers, an STS and an IMDSv2 stand-in over
/// TestHttpServer, and a Sleeper that records instead of waiting. Test code only.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "modules/text_format.hpp"
#include "s3/credentials.hpp"
#include "testing/fake_clock.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/test_http_server.hpp"

namespace vpcflow {

/// A Sleeper that never waits.
inline Sleeper NoWait() {
  return [](int64_t) { return true; };
}

// Distinctive secrets: no message or description may ever contain them.
inline constexpr char kSecret[] = "SeCrEtKeY0wJalrXUtnFEMIzz";
inline constexpr char kSessionToken[] = "SeSsIoNtOkEn0FwoGZXIvYXdzzz";
inline constexpr char kWebToken[] = "WeBiDeNtItYtOkEn0eyJhbGciOizz";
inline constexpr char kStsSecret[] = "StSsEcReT0fromTheStandInzz";
inline constexpr char kStsToken[] = "StStOkEn0fromTheStandInzz";
inline constexpr char kRoleArn[] = "arn:aws:iam::123456789012:role/digester";
inline constexpr int64_t kHourMs = 3600 * 1000;
inline constexpr int64_t kMinuteMs = 60 * 1000;

inline void ExpectNoSecrets(const std::string& text) {
  for (const char* secret : {kSecret, kSessionToken, kWebToken, kStsSecret, kStsToken}) {
    EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr(secret)));
  }
}

template <typename T>
inline void ExpectNoSecretsIn(const Result<T>& result) {
  ExpectNoSecrets(result.status().message());
}

inline std::string PercentDecode(std::string_view text) {
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

inline std::map<std::string, std::string> ParseForm(std::string_view body) {
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
inline std::string StsXml(const std::string& action, const std::string& key_id,
                          int64_t expires_ms) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>" + key_id + "</AccessKeyId><SecretAccessKey>" +
         kStsSecret + "</SecretAccessKey><SessionToken>" + kStsToken +
         "</SessionToken><Expiration>" + FormatRfc3339Millis(expires_ms) +
         "</Expiration></Credentials></" + action + "Result><ResponseMetadata><RequestId>r" +
         "</RequestId></ResponseMetadata></" + action + "Response>";
}

inline std::string StsErrorXml(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
         "<Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message + "</Message></Error><RequestId>r</RequestId>" +
         "</ErrorResponse>";
}

inline std::shared_ptr<HttpClient> Curl() {
  return std::shared_ptr<HttpClient>(NewCurlHttpClient());
}

inline std::unique_ptr<TestHttpServer> StartServer(TestHttpServer::Handler handler = nullptr) {
  Result<std::unique_ptr<TestHttpServer>> server = TestHttpServer::Start(std::move(handler));
  EXPECT_OK(server);
  return server.ok() ? std::move(server).value() : nullptr;
}

// Settings for web identity against `sts_url`, the token (kWebToken) written into `dir`.
inline CredentialsSettings WebIdentitySettings(const ScratchDir& dir, const std::string& sts_url) {
  WriteFile(dir.Sub("token"), kWebToken);
  CredentialsSettings settings;
  settings.web_identity_token_file = dir.Sub("token");
  settings.role_arn = kRoleArn;
  settings.sts_endpoint = sts_url;
  settings.sleep = NoWait();
  return settings;
}

// Checks an STS answer of StsStandIn / StsXml.
inline void ExpectStsCredentials(const Result<AwsCredentials>& got, const std::string& key_id,
                                 int64_t expires_ms) {
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, key_id);
  EXPECT_EQ(got->keys.secret_access_key, kStsSecret);
  EXPECT_EQ(got->keys.session_token, kStsToken);
  EXPECT_EQ(got->expires_unix_ms, expires_ms);
}

// Checks the form POST to "/" an STS stand-in received and returns its fields.
inline std::map<std::string, std::string> StsForm(const TestHttpRequest& request) {
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  EXPECT_EQ(request.Header("content-type"), "application/x-www-form-urlencoded; charset=utf-8");
  return ParseForm(request.body);
}

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

inline constexpr char kImdsToken[] = "ImDsSeSsIoNtOkEnzz";

// IMDSv2 stand-in: a token for a PUT with the TTL header; 401 for GETs without that token.
inline TestHttpReply ImdsHandler(const TestHttpRequest& request, const FakeClock& clock) {
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

/// A Sleeper that records the waits and never waits. Thread-safe.
class RecordingSleeper {
 public:
  Sleeper AsSleeper() {
    return [this](int64_t ms) {
      std::lock_guard lock(mu_);
      waits_.push_back(ms);
      return true;
    };
  }
  std::vector<int64_t> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<int64_t> waits_;
};

}  // namespace vpcflow
