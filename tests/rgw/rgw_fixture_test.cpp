// The "rgw" CTest fixture (scripts/rgw.sh, cmake/rgw.cmake): the env file is complete, our
// gateway answers on 127.0.0.1, and the S3 user's keys work, checked with Debian's awscli
// (independent of our own S3 client).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "testing/matchers.hpp"
#include "testing/rgw_env.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAws[] = "/usr/bin/aws";  // Debian's awscli; `aws` on PATH may be another one

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command and captures its output. The command line never holds a secret: awscli
// takes the keys from the environment (SetAwsEnvironment).
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

void SetAwsEnvironment(const RgwEnv& env) {
  ::setenv("AWS_ACCESS_KEY_ID", env.access_key.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", env.secret_key.c_str(), 1);
  ::setenv("AWS_DEFAULT_REGION", env.region.c_str(), 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  ::unsetenv("AWS_PROFILE");
  ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_PAGER", "", 1);
}

TEST(RgwFixtureTest, EnvFileNamesALoopbackEndpointAndKeys) {
  Result<RgwEnv> loaded = LoadRgwEnv();
  ASSERT_OK(loaded);
  RgwEnv env = *loaded;
  EXPECT_THAT(env.endpoint, StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(env.access_key.size(), 20u);
  EXPECT_EQ(env.secret_key.size(), 40u);
  EXPECT_EQ(env.region, "us-east-1");
}

TEST(RgwFixtureTest, GatewayAnswersAnonymousListing) {
  Result<RgwEnv> loaded = LoadRgwEnv();
  ASSERT_OK(loaded);
  RgwEnv env = *loaded;
  HttpClientPtr client = NewCurlHttpClient();
  Result<HttpResponse> sent = client->Send(HttpRequest{.method = "GET", .url = env.endpoint + "/"});
  ASSERT_OK(sent);
  const HttpResponse& response = *sent;
  EXPECT_EQ(response.status, 200);
  EXPECT_THAT(response.body, HasSubstr("ListAllMyBucketsResult"));
}

TEST(RgwFixtureTest, UserKeysCreateBucketPutAndListWithAwsCli) {
  Result<RgwEnv> loaded = LoadRgwEnv();
  ASSERT_OK(loaded);
  RgwEnv env = *loaded;
  SetAwsEnvironment(env);
  const std::string aws = std::string(kAws) + " --endpoint-url " + env.endpoint + " s3api ";
  const std::string bucket = UniqueBucketName("rgw-fixture");
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::string body_file = scratch.Sub("body.txt");
  std::ofstream(body_file) << "hello from the rgw fixture\n";

  CommandResult created = RunCommand(aws + "create-bucket --bucket " + bucket);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  CommandResult put = RunCommand(aws + "put-object --bucket " + bucket +
                                 " --key dir/hello.txt --body " + body_file);
  ASSERT_EQ(put.exit_code, 0) << put.output;
  EXPECT_THAT(put.output, HasSubstr("ETag"));
  CommandResult listed = RunCommand(aws + "list-objects-v2 --output json --bucket " + bucket);
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_THAT(listed.output, HasSubstr("\"Key\": \"dir/hello.txt\""));
  EXPECT_THAT(listed.output, HasSubstr("\"Size\": 27"));

  // Anonymous access to the private bucket is refused: the bucket really is the user's.
  HttpClientPtr client = NewCurlHttpClient();
  Result<HttpResponse> anonymous = client->Send(HttpRequest{.url = env.endpoint + "/" + bucket});
  ASSERT_OK(anonymous);
  EXPECT_EQ(anonymous->status, 403);

  CommandResult deleted_object =
      RunCommand(aws + "delete-object --bucket " + bucket + " --key dir/hello.txt");
  EXPECT_EQ(deleted_object.exit_code, 0) << deleted_object.output;
  CommandResult deleted_bucket = RunCommand(aws + "delete-bucket --bucket " + bucket);
  EXPECT_EQ(deleted_bucket.exit_code, 0) << deleted_bucket.output;
}

TEST(RgwFixtureTest, WrongSecretIsRefused) {
  Result<RgwEnv> loaded = LoadRgwEnv();
  ASSERT_OK(loaded);
  RgwEnv env = *loaded;
  env.secret_key = std::string(40, 'x');
  SetAwsEnvironment(env);
  CommandResult listed =
      RunCommand(std::string(kAws) + " --endpoint-url " + env.endpoint + " s3api list-buckets");
  EXPECT_NE(listed.exit_code, 0) << listed.output;
}

TEST(RgwEnvTest, FailsWithoutTheVariable) {
  const char* saved = std::getenv(kRgwEnvVariable);
  const std::string value = saved != nullptr ? saved : "";
  ::unsetenv(kRgwEnvVariable);
  EXPECT_THAT(LoadRgwEnv(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr(kRgwEnvVariable)));
  ::setenv(kRgwEnvVariable, "/nonexistent/rgw/env", 1);
  EXPECT_THAT(LoadRgwEnv(), StatusIs(StatusCode::kNotFound));
  if (saved != nullptr) {
    ::setenv(kRgwEnvVariable, value.c_str(), 1);
  } else {
    ::unsetenv(kRgwEnvVariable);
  }
}

TEST(RgwEnvTest, MissingKeyIsNamedButNoSecretIsShown) {
  ScratchDir scratch;
  const std::string path = scratch.Sub("env");
  std::ofstream(path) << "VPCFLOW_RGW_ENDPOINT=http://127.0.0.1:1\n"
                         "VPCFLOW_RGW_SECRET_KEY=topsecret\nVPCFLOW_RGW_REGION=us-east-1\n";
  const char* saved = std::getenv(kRgwEnvVariable);
  const std::string value = saved != nullptr ? saved : "";
  ::setenv(kRgwEnvVariable, path.c_str(), 1);
  Result<RgwEnv> env = LoadRgwEnv();
  EXPECT_THAT(env, StatusIs(StatusCode::kInvalidArgument, HasSubstr("VPCFLOW_RGW_ACCESS_KEY")));
  EXPECT_THAT(env.status().message(), ::testing::Not(HasSubstr("topsecret")));
  if (saved != nullptr) {
    ::setenv(kRgwEnvVariable, value.c_str(), 1);
  } else {
    ::unsetenv(kRgwEnvVariable);
  }
}

TEST(RgwEnvTest, UniqueBucketNamesAreValidAndDistinct) {
  const std::regex valid("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
  const std::string_view stems[] = {
      "Digests", "s3_client test!", "", "---",
      "a-very-long-stem-that-goes-on-and-on-beyond-sixty-three-characters-of-bucket-name"};
  std::set<std::string> names;
  for (std::string_view stem : stems) {
    for (int i = 0; i < 3; ++i) {
      const std::string name = UniqueBucketName(stem);
      EXPECT_TRUE(std::regex_match(name, valid)) << name;
      EXPECT_TRUE(names.insert(name).second) << name;
    }
  }
  EXPECT_THAT(UniqueBucketName("S3_Client test"), StartsWith("s3-client-test-"));
  EXPECT_THAT(UniqueBucketName(""), StartsWith("bucket-"));
}

}  // namespace
}  // namespace vpcflow
