#include "s3/credentials.hpp"

#include <initializer_list>
#include <utility>

#include "s3/credentials_http.hpp"

namespace vpcflow {
namespace {

class StaticProvider final : public CredentialsProvider {
 public:
  StaticProvider(AwsCredentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}

  Result<AwsCredentials> Get() override { return credentials_; }
  std::string Describe() const override { return description_; }

 private:
  const AwsCredentials credentials_;
  const std::string description_;
};

std::string FirstSet(const std::map<std::string, std::string>& env,
                     std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace

CredentialsSettings CredentialsSettingsFromEnvironment(
    const std::map<std::string, std::string>& env) {
  CredentialsSettings settings;
  settings.access_key_id = FirstSet(env, {"AWS_ACCESS_KEY_ID"});
  settings.secret_access_key = FirstSet(env, {"AWS_SECRET_ACCESS_KEY"});
  settings.session_token = FirstSet(env, {"AWS_SESSION_TOKEN"});
  settings.credentials_file =
      FirstSet(env, {"AWS_CREDENTIALS_FILE", "AWS_SHARED_CREDENTIALS_FILE"});
  settings.config_file = FirstSet(env, {"AWS_CONFIG_FILE"});
  settings.profile = FirstSet(env, {"AWS_CREDENTIALS_PROFILE", "AWS_PROFILE"});
  settings.web_identity_token_file = FirstSet(env, {"AWS_WEB_IDENTITY_TOKEN_FILE"});
  settings.role_arn = FirstSet(env, {"AWS_ROLE_ARN"});
  settings.role_session_name = FirstSet(env, {"AWS_ROLE_SESSION_NAME"});
  settings.container_relative_uri = FirstSet(env, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"});
  settings.container_full_uri = FirstSet(env, {"AWS_CONTAINER_CREDENTIALS_FULL_URI"});
  settings.container_authorization_token = FirstSet(env, {"AWS_CONTAINER_AUTHORIZATION_TOKEN"});
  settings.container_authorization_token_file =
      FirstSet(env, {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"});
  const std::string use_iam = AsciiLower(TrimSpace(FirstSet(env, {"USE_IAM"})));
  settings.use_iam = use_iam == "true" || use_iam == "1" || use_iam == "yes";
  settings.ec2_metadata_endpoint = FirstSet(env, {"AWS_EC2_METADATA_SERVICE_ENDPOINT"});
  settings.sts_endpoint = FirstSet(env, {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"});
  settings.region = FirstSet(env, {"AWS_REGION", "AWS_DEFAULT_REGION"});
  settings.home = FirstSet(env, {"HOME"});
  return settings;
}

CredentialsProviderPtr NewStaticCredentialsProvider(AwsCredentials credentials,
                                                    std::string description) {
  return std::make_shared<StaticProvider>(std::move(credentials), std::move(description));
}

}  // namespace vpcflow
