// S3ModuleFactory (vpcflow/s3.hpp): the public face of S3ClientFactory and the S3 modules of
// src/s3, with the settings a Config holds.
#include <memory>
#include <string>
#include <utility>

#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
#include "service/marker_keeper.hpp"
#include "service/s3_stores.hpp"
#include "vpcflow/s3.hpp"

namespace vpcflow {

class S3ModuleFactoryImpl {
 public:
  S3ModuleFactoryImpl(const Config& config, std::shared_ptr<HttpClient> http, ClockPtr clock)
      : config_(config),
        clock_(clock ? std::move(clock) : SystemClock()),
        clients_(CredentialsSettingsFromConfig(config), S3EndpointFromConfig(config),
                 http ? std::move(http)
                      : std::shared_ptr<HttpClient>(NewCurlHttpClient({.ca_file = config.ca_file})),
                 clock_) {}

  // A client for the bucket; with `head`, only once a HEAD of the bucket answered OK (it checks
  // the bucket exists, is in the region given and the keys are good).
  Result<std::shared_ptr<S3Client>> Client(const BucketConfig& b, bool head) {
    if (b.bucket.empty()) return InvalidArgumentError("no bucket named");
    VPCFLOW_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, clients_.Make(b.region, b.role));
    if (head) VPCFLOW_RETURN_IF_ERROR(client->HeadBucket(b.bucket));
    return client;
  }

  const Config config_;
  const ClockPtr clock_;
  S3ClientFactory clients_;
};

S3ModuleFactory::S3ModuleFactory(const Config& config, std::shared_ptr<HttpClient> http,
                                 ClockPtr clock)
    : impl_(std::make_unique<S3ModuleFactoryImpl>(config, std::move(http), std::move(clock))) {}

S3ModuleFactory::~S3ModuleFactory() = default;

Result<ObjectSourcePtr> S3ModuleFactory::NewObjectSource(const BucketConfig& bucket) {
  VPCFLOW_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, impl_->Client(bucket, true));
  const Config& c = impl_->config_;
  return NewS3ObjectSource(std::move(client),
                           {.bucket = bucket.bucket,
                            .prefix = bucket.prefix,
                            .max_bytes_prefetch = c.max_bytes_prefetch,
                            .max_concurrent_prefetch = c.max_concurrent_prefetch});
}

Result<StoragePtr> S3ModuleFactory::NewStorage(const BucketConfig& bucket) {
  VPCFLOW_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, impl_->Client(bucket, true));
  return NewS3Storage(std::move(client), bucket.bucket, bucket.prefix);
}

Result<MarkerPtr> S3ModuleFactory::NewMarker(const BucketConfig& bucket, bool* atomic) {
  // No HEAD: the marker's probe write checks the bucket, and that it is writable.
  VPCFLOW_ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, impl_->Client(bucket, false));
  bool honoured = true;
  Result<MarkerPtr> marker =
      NewS3Marker(std::move(client), bucket.bucket, MarkerOptionsFor(impl_->config_, impl_->clock_),
                  bucket.prefix, &honoured);
  if (atomic != nullptr) *atomic = honoured;
  return marker;
}

}  // namespace vpcflow
