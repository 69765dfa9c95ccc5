#include "s3/process_credentials.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/aws_stand_ins.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCommandSecret[] = "CoMmAnDlInEsEcReTzz";

class ProcessCredentialsTest : public ::testing::Test {
 protected:
  // A script printing `output` (and exiting with `code`), run as the credential_process.
  CredentialsProviderPtr Provider(const std::string& output, int code = 0,
                                  ProgramLimits limits = {.timeout_ms = 10000,
                                                          .max_output_bytes = 64 * 1024}) {
    WriteFile(dir_.Sub("out.json"), output);
    const std::string command = "cat '" + dir_.Sub("out.json") + "'; echo " + kCommandSecret +
                                " >&2; exit " + std::to_string(code) + " # " + kCommandSecret;
    return NewProcessProvider(
        {.command = command, .description = "credential_process of profile p", .limits = limits},
        CredentialsSettings{}, clock_);
  }

  void ExpectClean(const Result<AwsCredentials>& got) {
    ExpectNoSecretsIn(got);
    EXPECT_THAT(got.status().message(), Not(HasSubstr(kCommandSecret)));
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  ScratchDir dir_;
};

TEST_F(ProcessCredentialsTest, ReadsVersion1AndCachesUntilTheExpiration) {
  const std::string expires = FormatRfc3339Millis(clock_->NowUnixMillis() + kHourMs);
  CredentialsProviderPtr provider =
      Provider("{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"" +
               std::string(kSecret) + "\", \"SessionToken\": \"" + kSessionToken +
               "\", \"Expiration\": \"" + expires + "\"}\n");
  EXPECT_EQ(provider->Describe(), "credential_process of profile p");
  Result<AwsCredentials> got = provider->Get();
  ASSERT_OK(got);
  EXPECT_EQ(got->keys.access_key_id, "ASIAPROC");
  EXPECT_EQ(got->keys.secret_access_key, kSecret);
  EXPECT_EQ(got->keys.session_token, kSessionToken);
  EXPECT_EQ(got->expires_unix_ms, clock_->NowUnixMillis() + kHourMs);

  // The program is run again only inside the refresh margin: its output changes meanwhile.
  WriteFile(dir_.Sub("out.json"),
            "{\"Version\": 1, \"AccessKeyId\": \"ASIANEXT\", "
            "\"SecretAccessKey\": \"x\"}");
  ASSERT_OK(provider->Get());
  EXPECT_EQ(provider->Get()->keys.access_key_id, "ASIAPROC");
  clock_->AdvanceMillis(56 * kMinuteMs);
  Result<AwsCredentials> next = provider->Get();
  ASSERT_OK(next);
  EXPECT_EQ(next->keys.access_key_id, "ASIANEXT");
  EXPECT_EQ(next->expires_unix_ms, 0);  // no Expiration: long-term
}

TEST_F(ProcessCredentialsTest, AFailingProgramIsFailedPreconditionWithoutItsOutput) {
  Result<AwsCredentials> got =
      Provider("{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" +
                   std::string(kSecret) + "\"}",
               3)
          ->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kFailedPrecondition,
                            AllOf(HasSubstr("credential_process of profile p"),
                                  HasSubstr("exited with code 3"))));
  ExpectClean(got);
}

TEST_F(ProcessCredentialsTest, BadOutputIsFailedPreconditionNamingWhatIsWrong) {
  EXPECT_THAT(Provider("AccessKeyId=" + std::string(kSecret))->Get(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not a JSON object")));
  Result<AwsCredentials> v2 =
      Provider("{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"" +
               std::string(kSecret) + "\"}")
          ->Get();
  EXPECT_THAT(v2, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("Version")));
  ExpectClean(v2);
  EXPECT_THAT(Provider("{\"Version\": 1, \"AccessKeyId\": \"A\"}")->Get(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("SecretAccessKey")));
  EXPECT_THAT(Provider("{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", "
                       "\"Expiration\": \"tomorrow\"}")
                  ->Get(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("Expiration")));
}

TEST_F(ProcessCredentialsTest, TooMuchOutputIsCut) {
  Result<AwsCredentials> got =
      Provider(std::string(4096, 'x'), 0, {.timeout_ms = 10000, .max_output_bytes = 1024})->Get();
  EXPECT_THAT(
      got, StatusIs(StatusCode::kResourceExhausted, HasSubstr("credential_process of profile p")));
  ExpectClean(got);
}

TEST_F(ProcessCredentialsTest, AProgramThatHangsIsKilledAtTheLimit) {
  CredentialsProviderPtr provider =
      NewProcessProvider({.command = "exec sleep 30 # " + std::string(kCommandSecret),
                          .description = "credential_process of profile slow",
                          .limits = {.timeout_ms = 200, .max_output_bytes = 1024}},
                         CredentialsSettings{}, clock_);
  Result<AwsCredentials> got = provider->Get();
  EXPECT_THAT(got, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("profile slow")));
  ExpectClean(got);
}

}  // namespace
}  // namespace vpcflow
