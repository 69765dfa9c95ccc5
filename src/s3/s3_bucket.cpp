// NewS3ClientForBucket (s3_modules.hpp).
#include <memory>
#include <string>
#include <utility>

#include "s3/s3_modules.hpp"

namespace vpcflow {

Result<std::shared_ptr<S3Client>> NewS3ClientForBucket(const S3BucketAccess& access,
                                                       CredentialsProviderPtr base,
                                                       const CredentialsSettings& settings,
                                                       std::shared_ptr<HttpClient> http,
                                                       ClockPtr clock) {
  if (base == nullptr || http == nullptr) {
    return InvalidArgumentError("S3 client: no credentials or no HTTP client");
  }
  CredentialsProviderPtr credentials = std::move(base);
  if (!access.role_arn.empty()) {
    credentials =
        NewAssumeRoleProvider(std::move(credentials), access.role_arn, settings, http, clock);
    if (Result<AwsCredentials> assumed = credentials->Get(); !assumed.ok()) {
      return assumed.status();
    }
  }
  S3ClientOptions options;
  options.region = !access.region.empty()     ? access.region
                   : !settings.region.empty() ? settings.region
                                              : "us-east-1";
  options.endpoint = access.endpoint;
  options.clock = std::move(clock);
  return std::make_shared<S3Client>(std::move(options), std::move(credentials), std::move(http));
}

}  // namespace vpcflow
