// The S3 stores of a Service (s3_stores.hpp).
#include "service/s3_stores.hpp"

#include <cstdlib>
#include <utility>

#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
#include "service/marker_keeper.hpp"

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
  S3ClientFactory clients(CredentialsSettingsFromConfig(c), S3EndpointFromConfig(c),
                          std::move(http), clock);
  auto client_for = [&](const char* variable, const BucketConfig& b) -> std::shared_ptr<S3Client> {
    Result<std::shared_ptr<S3Client>> client = clients.Make(b.region, b.role);
    if (client.ok()) return std::move(client).value();
    problems->push_back(std::string(variable) + ": \"" + b.bucket +
                        "\": " + client.status().message());
    return nullptr;
  };
  auto problem = [&](const char* variable, const std::string& bucket, const Status& status) {
    problems->push_back(std::string(variable) + ": \"" + bucket + "\": " + status.message());
  };
  // The store when the bucket answered and the store was built; else a problem. True if taken.
  auto take = [&](const char* variable, const std::string& bucket, const Status& reachable,
                  auto made, auto& into) {
    const Status& status = !reachable.ok() ? reachable : made.status();
    if (!status.ok()) {
      problem(variable, bucket, status);
      return false;
    }
    into = std::move(made).value();
    return true;
  };

  if (wanted.source && !c.flowlogs_bucket.bucket.empty()) {
    const std::string& bucket = c.flowlogs_bucket.bucket;
    if (auto client = client_for("VPC_FLOW_LOGS_BUCKET", c.flowlogs_bucket)) {
      // HEAD of the bucket checks it exists, is in the region given and the keys are good.
      Status readable = client->HeadBucket(bucket);
      Result<ObjectSourcePtr> source =
          NewS3ObjectSource(client, {.bucket = bucket,
                                     .max_bytes_prefetch = c.max_bytes_prefetch,
                                     .max_concurrent_prefetch = c.max_concurrent_prefetch});
      take("VPC_FLOW_LOGS_BUCKET", bucket, readable, std::move(source), out.source);
    }
  }
  if (wanted.storage && !c.digest_bucket.bucket.empty()) {
    const std::string& bucket = c.digest_bucket.bucket;
    if (auto client = client_for("DIGEST_STORAGE_BUCKET", c.digest_bucket)) {
      Status reachable = client->HeadBucket(bucket);
      Result<StoragePtr> storage = NewS3Storage(client, bucket);
      take("DIGEST_STORAGE_BUCKET", bucket, reachable, std::move(storage), out.storage);
    }
  }
  if (wanted.marker && !c.progress_bucket.bucket.empty()) {
    const std::string& bucket = c.progress_bucket.bucket;
    if (auto client = client_for("DIGEST_PROGRESS_BUCKET", c.progress_bucket)) {
      // The marker probes conditional writes, which also checks the bucket is writable.
      bool atomic = true;
      Result<MarkerPtr> marker =
          NewS3Marker(client, bucket, MarkerOptionsFor(c, clock), "", &atomic);
      if (take("DIGEST_PROGRESS_BUCKET", bucket, OkStatus(), std::move(marker), out.marker)) {
        if (!atomic) {
          out.warnings.push_back("DIGEST_PROGRESS_BUCKET \"" + bucket +
                                 "\": the server ignores If-None-Match on PUT; two POSTs racing "
                                 "for one digest may both start it");
        }
      }
    }
  }
  return out;
}

}  // namespace vpcflow
