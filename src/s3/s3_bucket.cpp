// S3ClientFactory (s3_modules.hpp).
#include <memory>
#include <string>
#include <utility>

#include "s3/credentials_http.hpp"
#include "s3/s3_modules.hpp"
#include "s3/sts.hpp"

namespace vpcflow {

S3ClientFactory::S3ClientFactory(CredentialsSettings settings, std::string endpoint,
                                 std::shared_ptr<HttpClient> http, ClockPtr clock)
    : settings_(std::move(settings)),
      endpoint_(std::move(endpoint)),
      http_(OrCurl(std::move(http))),
      clock_(clock ? std::move(clock) : SystemClock()) {}

Result<std::shared_ptr<S3Client>> S3ClientFactory::Make(const std::string& region,
                                                        const std::string& role_arn) {
  if (!base_) {
    // The region first: STS (a profile's role_arn) is asked in it.
    region_ = ResolveRegion(settings_, *http_);
    settings_.region = region_.region;
    VPCFLOW_ASSIGN_OR_RETURN(base_, NewDefaultCredentialsChain(settings_, http_, clock_));
  }
  CredentialsProviderPtr credentials = base_;
  if (!role_arn.empty()) {
    credentials = NewAssumeRoleProvider(std::move(credentials), role_arn, settings_, http_, clock_);
    if (Result<AwsCredentials> assumed = credentials->Get(); !assumed.ok()) {
      return assumed.status();
    }
  }
  S3ClientOptions options;
  options.region = region.empty() ? settings_.region : region;
  options.endpoint = endpoint_;
  options.clock = clock_;
  return std::make_shared<S3Client>(std::move(options), std::move(credentials), http_);
}

}  // namespace vpcflow
