// An example of embedding vpcflow-digesterd with S3 modules made in main.cpp: the digests and
// the in-progress markers share one bucket, under two prefixes, which the DIGEST_STORAGE_BUCKET
// and DIGEST_PROGRESS_BUCKET variables cannot say. Credentials, the endpoint and everything
// else come from the usual variables (the AWS SDKs' credentials chain; AWS_ENDPOINT_URL for a
// server other than AWS); the flow logs from VPC_FLOW_LOGS_BUCKET or VPC_FLOW_LOGS_DIR as usual.
//
//   export ARCHIVE_BUCKET=my-archive ARCHIVE_BUCKET_REGION=eu-west-1
//   VPC_FLOW_LOGS_BUCKET=my-logs vpcflow-embed-s3
//
// Digests go to s3://my-archive/digests/<id>.log.gz (and .manifest.json), markers to
// s3://my-archive/progress/. ARCHIVE_BUCKET_ROLE names a role to assume for that bucket.
//
// The pattern: read the Config, make the modules with S3ModuleFactory (errors are values that
// name the bucket, never a secret), set them on the Service before Run().

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "vpcflow/s3.hpp"
#include "vpcflow/service.hpp"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "vpcflow-embed-s3: %s\n", message.c_str());
  return 2;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

int main() {
  vpcflow::Result<vpcflow::Config> config =
      vpcflow::ConfigFromEnvironment(vpcflow::EnvironmentMap());
  if (!config.ok()) return Fail(config.status().message());
  const vpcflow::BucketConfig archive{.bucket = Env("ARCHIVE_BUCKET"),
                                      .region = Env("ARCHIVE_BUCKET_REGION"),
                                      .role = Env("ARCHIVE_BUCKET_ROLE")};
  if (archive.bucket.empty()) return Fail("ARCHIVE_BUCKET: not set");

  vpcflow::S3ModuleFactory s3(*config);
  vpcflow::BucketConfig digests = archive;
  digests.prefix = "digests/";
  vpcflow::Result<vpcflow::StoragePtr> storage = s3.NewStorage(digests);
  if (!storage.ok())
    return Fail("ARCHIVE_BUCKET \"" + archive.bucket + "\": " + storage.status().message());
  vpcflow::BucketConfig progress = archive;
  progress.prefix = "progress/";
  vpcflow::Result<vpcflow::MarkerPtr> marker = s3.NewMarker(progress);
  if (!marker.ok())
    return Fail("ARCHIVE_BUCKET \"" + archive.bucket + "\": " + marker.status().message());

  vpcflow::Service service(*config);
  service.SetStorage(std::move(storage).value());
  service.SetMarker(std::move(marker).value());
  vpcflow::Status st = service.Run();
  if (!st.ok()) return Fail(st.message());
  return 0;
}
