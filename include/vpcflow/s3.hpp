#pragma once
/// S3 modules for a program's own main.cpp: an ObjectSource, a Storage and a Marker over S3
/// buckets (AWS S3, or an S3-compatible server such as Ceph RGW), each built from a bucket's
/// name, region and role plus the credentials and endpoint settings of a Config. It is the
/// wiring the Service itself uses for VPC_FLOW_LOGS_BUCKET, DIGEST_STORAGE_BUCKET and
/// DIGEST_PROGRESS_BUCKET, so a module made here behaves exactly like the default one; use it
/// where those variables cannot say what you want (a key prefix, two stores in one bucket, a
/// store wrapped in a decorator of yours). examples/embed_s3/main.cpp shows it:
///
///   Result<Config> config = ConfigFromEnvironment(EnvironmentMap());
///   S3ModuleFactory s3(*config);
///   Result<StoragePtr> storage = s3.NewStorage({.bucket = "archive", .prefix = "digests/"});
///   if (!storage.ok()) ...;  // the bucket, credentials or role named in the message
///   Service service(*config);
///   service.SetStorage(std::move(storage).value());
///
/// Credentials are those of the AWS SDKs' default chain over the Config's fields (environment
/// keys, the shared profile files, web identity, container credentials, with USE_IAM the
/// instance metadata; DESIGN.md, "S3 credentials"); secrets are never logged nor put in a
/// message. They and the default region are resolved once, by the first New*() call, and shared
/// by every module the factory makes (one credentials chain, one HTTP client).
///
/// Thread safety: a factory is not thread-safe (make the modules from one thread). The modules
/// it returns are thread-safe, hold what they need (they may outlive the factory) and are owned
/// by the caller.

#include <memory>
#include <string>

#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/service.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

class S3ModuleFactoryImpl;

/// Makes S3 modules. Each New*() returns the module, or the first error met while making it:
///  - FailedPrecondition when no source of the credentials chain yields credentials (the
///    message lists what was tried), or the error of the source that was configured but failed
///    (a broken profile file, a credential_process that fails);
///  - the role's error when `role` cannot be assumed (PermissionDenied, InvalidArgument...);
///  - InvalidArgument when `bucket` is empty.
/// Errors of the bucket itself (checked by a HEAD of the bucket for a source and a storage, by
/// the marker's probe write for a marker): NotFound (no such bucket), PermissionDenied (the
/// keys or the bucket's policy refuse it), Unavailable (the endpoint is unreachable after the
/// client's retries).
class S3ModuleFactory {
 public:
  /// Takes from `config`: the credentials settings (aws_* fields, use_iam, the older
  /// service's aws_credentials_file and aws_credentials_profile), the endpoint
  /// (aws_endpoint_url_s3, else aws_endpoint_url; "" = AWS), the ObjectSource's prefetch budget
  /// (max_bytes_prefetch, max_concurrent_prefetch) and the Marker's TTL and heartbeat
  /// (progress_timeout_ms, heartbeat_ms). The bucket fields of `config` are not used. Nothing
  /// is resolved or sent here. `http` null = curl verifying TLS with config.ca_file; `clock`
  /// null = SystemClock() (it signs requests and judges the markers' age).
  explicit S3ModuleFactory(const Config& config, std::shared_ptr<HttpClient> http = nullptr,
                           ClockPtr clock = nullptr);
  ~S3ModuleFactory();
  S3ModuleFactory(const S3ModuleFactory&) = delete;
  S3ModuleFactory& operator=(const S3ModuleFactory&) = delete;

  /// An ObjectSource over the flow-log objects of `bucket`: listing with ListObjectsV2,
  /// objects prefetched in the background within the Config's budget, others streamed with
  /// ranged GETs, Parquet read by ranges (object_source.hpp).
  Result<ObjectSourcePtr> NewObjectSource(const BucketConfig& bucket);

  /// A Storage of digests in `bucket` (storage.hpp): uploaded while produced (multipart once
  /// larger than 8 MiB), visible only once committed, the manifest beside the digest.
  Result<StoragePtr> NewStorage(const BucketConfig& bucket);

  /// A Marker in `bucket` (marker.hpp): marks are created with "If-None-Match: *", so exactly
  /// one of racing callers wins. A probe write at construction checks that the server honours
  /// it; where it does not, marks fall back to check-then-put (not atomic), the Marker's
  /// Describe() says so, and `*atomic` (when not null) is set false (true otherwise).
  Result<MarkerPtr> NewMarker(const BucketConfig& bucket, bool* atomic = nullptr);

 private:
  std::unique_ptr<S3ModuleFactoryImpl> impl_;
};

}  // namespace vpcflow
