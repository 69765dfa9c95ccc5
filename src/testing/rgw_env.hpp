#pragma once
/// The real S3 server of the tests: a Ceph RADOS Gateway on 127.0.0.1 started by
/// scripts/rgw.sh (CTest fixture "rgw"; see cmake/rgw.cmake). The script writes an env file
/// (KEY=VALUE lines) and CTest passes its path in VPCFLOW_RGW_ENV to every test labelled "rgw".
/// Thread-safe: both functions may be called from any thread.

#include <string>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// Where and as whom to reach the gateway. Path-style addressing: bucket URLs are
/// endpoint + "/" + bucket.
struct RgwEnv {
  std::string endpoint;    ///< "http://127.0.0.1:<port>", no trailing slash
  std::string access_key;  ///< of the S3 user the script created
  std::string secret_key;  ///< never log it
  std::string region;      ///< for SigV4 ("us-east-1")
};

/// The name of the environment variable holding the env file's path.
inline constexpr char kRgwEnvVariable[] = "VPCFLOW_RGW_ENV";

/// Reads the file named by $VPCFLOW_RGW_ENV. A test that needs the gateway must fail, not skip,
/// without it: FailedPrecondition when the variable is unset or empty, NotFound when the file
/// cannot be read (the fixture did not start), InvalidArgument when one of
/// VPCFLOW_RGW_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _REGION is missing or empty. Messages never
/// contain the keys.
Result<RgwEnv> LoadRgwEnv();

/// The same from the env file at `path` (a gateway a test started itself with scripts/rgw.sh).
Result<RgwEnv> LoadRgwEnvFile(const std::string& path);

/// A valid S3 bucket name (3-63 characters of [a-z0-9-], starting and ending with a letter or
/// digit) that differs on every call in the process and between processes: the stem (lower-cased,
/// other characters turned into '-', shortened when needed; "bucket" when nothing is left), then
/// "-<pid>-<counter>-<random hex>". Tests share one gateway, so each uses its own buckets.
std::string UniqueBucketName(std::string_view stem);

}  // namespace vpcflow
