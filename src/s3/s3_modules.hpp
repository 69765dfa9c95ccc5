#pragma once
/// The S3-backed modules (issue 4): ObjectSource, Storage and Marker over an S3Client. Each
/// shares the client (and so its connection pool and credentials) through a shared_ptr.

#include <cstdint>
#include <memory>
#include <string>

#include "s3/credentials_chain.hpp"
#include "s3/s3_client.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

/// The S3 clients of one program (the CLI's source, the service's stores): one HttpClient, one
/// credentials chain and one default region, both resolved at the first Make() (so a program
/// without a bucket never looks for credentials), and a client per bucket. Not thread-safe:
/// make the clients from one thread, then use them from any.
class S3ClientFactory {
 public:
  /// `endpoint`: "" = AWS, else a path-style endpoint URL (AWS_ENDPOINT_URL_S3, else
  /// AWS_ENDPOINT_URL). `http` null = curl, `clock` null = SystemClock().
  S3ClientFactory(CredentialsSettings settings, std::string endpoint,
                  std::shared_ptr<HttpClient> http, ClockPtr clock);

  /// A client for a bucket in `region` ("" = the default region: ResolveRegion) reached with
  /// `role_arn` ("" = the chain's credentials, else STS AssumeRole over them; the role is assumed
  /// here, so one that cannot be assumed is reported now, naming it). Errors: the chain's
  /// (FailedPrecondition listing what was tried) or the role's.
  Result<std::shared_ptr<S3Client>> Make(const std::string& region, const std::string& role_arn);

  /// The default region and where it came from; resolved by the first Make().
  const ResolvedRegion& default_region() const { return region_; }

 private:
  CredentialsSettings settings_;
  const std::string endpoint_;
  const std::shared_ptr<HttpClient> http_;
  const ClockPtr clock_;
  CredentialsProviderPtr base_;  // the chain, once resolved
  ResolvedRegion region_;
};

struct S3SourceOptions {
  std::string bucket{};
  /// Keys are read below this prefix and presented without it ("" = the whole bucket), so
  /// `s3://b/p/` with prefix "p/" looks like a directory laid out like the bucket.
  std::string prefix{};
  /// VPC_MAX_BYTES_PREFETCH: bytes downloaded ahead and not yet consumed, plus the buffers kept
  /// for reuse, at most. An object larger than this is never prefetched (streamed when opened).
  int64_t max_bytes_prefetch = 150000000;
  /// VPC_MAX_CONCURRENT_PREFETCH: downloads running ahead at once (0 disables prefetching).
  int max_concurrent_prefetch = 2;
  /// Streaming reads (objects not prefetched) fetch ranges of this size.
  uint64_t chunk_bytes = 8 << 20;
};

/// An ObjectSource over a bucket. Prefetch(upcoming) queues downloads that run on
/// `max_concurrent_prefetch` background threads, within the byte budget; Open() of a prefetched
/// key hands over the download in place (TakeInMemory; waiting if it is under way), any other
/// key is streamed with ranged GETs. A failed prefetch is retried once by Open() as a streamed
/// read. Downloads not opened in 5 minutes are dropped when the budget is needed. Thread-safe.
Result<ObjectSourcePtr> NewS3ObjectSource(std::shared_ptr<S3Client> client,
                                          S3SourceOptions options);

/// Storage over a bucket: `<prefix><id>.log.gz` and `<prefix><id>.manifest.json`. The digest is
/// uploaded while it is produced (multipart once it outgrows `part_size`, so it becomes visible
/// only at Commit); Commit() writes the manifest, then completes the digest; when completing
/// fails the manifest is deleted again. Get() streams with ranged GETs.
Result<StoragePtr> NewS3Storage(std::shared_ptr<S3Client> client, std::string bucket,
                                std::string prefix = "", uint64_t part_size = 8 << 20);

/// Marker over a bucket: `<prefix><id>_in_progress` (body: JSON, marker.hpp; markers of the older
/// service, a bare RFC 3339 time, are read) and `<prefix><id>_failed` (body: the RFC 3339 time,
/// a newline, the reason). Mark() and Claim() create with "If-None-Match: *" and replace a
/// marker they may take with "If-Match: <its ETag>", so exactly one of racing calls wins;
/// Refresh() rewrites with "If-Match" too. List() lists the prefix's level of the bucket and
/// reads each marker. At construction a probe object (`<prefix>.vpcflow-probe-<random>`) checks
/// that the server honours If-None-Match on PUT; where it does not, marks fall back to
/// check-then-put, which is not atomic, and Describe() says so ("s3://b (non-atomic marks)") and
/// `*atomic` is set false.
Result<MarkerPtr> NewS3Marker(std::shared_ptr<S3Client> client, std::string bucket,
                              MarkerOptions options, std::string prefix = "",
                              bool* atomic = nullptr);

}  // namespace vpcflow
