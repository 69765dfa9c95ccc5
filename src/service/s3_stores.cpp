// The S3 stores of a Service (s3_stores.hpp).
#include "service/s3_stores.hpp"

#include <cstdlib>
#include <utility>

#include "vpcflow/s3.hpp"

namespace vpcflow {
namespace {

const std::string& FirstSet(const std::string& a, const std::string& b) {
  return a.empty() ? b : a;
}

}  // namespace

CredentialsSettings CredentialsSettingsFromConfig(const Config& c) {
  CredentialsSettings s;
  s.access_key_id = c.aws_access_key_id;
  s.secret_access_key = c.aws_secret_access_key;
  s.session_token = c.aws_session_token;
  s.credentials_file = FirstSet(c.aws_credentials_file, c.aws_shared_credentials_file);
  s.profile = FirstSet(c.aws_credentials_profile, c.aws_profile);
  s.web_identity_token_file = c.aws_web_identity_token_file;
  s.role_arn = c.aws_role_arn;
  s.role_session_name = c.aws_role_session_name;
  s.use_iam = c.use_iam;
  s.ec2_metadata_endpoint = c.aws_ec2_metadata_endpoint;
  s.config_file = c.aws_config_file;
  s.container_relative_uri = c.aws_container_credentials_relative_uri;
  s.container_full_uri = c.aws_container_credentials_full_uri;
  s.container_authorization_token = c.aws_container_authorization_token;
  s.container_authorization_token_file = c.aws_container_authorization_token_file;
  s.sts_endpoint = FirstSet(c.aws_endpoint_url_sts, c.aws_endpoint_url);
  s.region = FirstSet(c.aws_region, c.aws_default_region);
  if (const char* home = std::getenv("HOME")) s.home = home;
  return s;
}

std::string S3EndpointFromConfig(const Config& c) {
  return FirstSet(c.aws_endpoint_url_s3, c.aws_endpoint_url);
}

S3Stores NewS3Stores(const Config& c, const S3StoresWanted& wanted,
                     std::shared_ptr<HttpClient> http, ClockPtr clock,
                     std::vector<std::string>* problems) {
  S3Stores out;
  S3ModuleFactory s3(c, std::move(http), std::move(clock));
  // The store when it was made; else a problem naming the variable. True if taken.
  auto take = [&](const char* variable, const std::string& bucket, auto made, auto& into) {
    if (!made.ok()) {
      problems->push_back(std::string(variable) + ": \"" + bucket +
                          "\": " + made.status().message());
      return false;
    }
    into = std::move(made).value();
    return true;
  };
  if (wanted.source && !c.flowlogs_bucket.bucket.empty()) {
    take("VPC_FLOW_LOGS_BUCKET", c.flowlogs_bucket.bucket, s3.NewObjectSource(c.flowlogs_bucket),
         out.source);
  }
  if (wanted.storage && !c.digest_bucket.bucket.empty()) {
    take("DIGEST_STORAGE_BUCKET", c.digest_bucket.bucket, s3.NewStorage(c.digest_bucket),
         out.storage);
  }
  if (wanted.marker && !c.progress_bucket.bucket.empty()) {
    bool atomic = true;
    if (take("DIGEST_PROGRESS_BUCKET", c.progress_bucket.bucket,
             s3.NewMarker(c.progress_bucket, &atomic), out.marker) &&
        !atomic) {
      out.warnings.push_back("DIGEST_PROGRESS_BUCKET \"" + c.progress_bucket.bucket +
                             "\": the server ignores If-None-Match on PUT; two POSTs racing "
                             "for one digest may both start it");
    }
  }
  return out;
}

}  // namespace vpcflow
