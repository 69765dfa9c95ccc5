#pragma once
/// The S3 stores of a Service: for each store whose bucket variable is set (and whose module the
/// program did not set), an S3 module with the bucket's region and role, sharing one credentials
/// chain and one HttpClient: the public S3ModuleFactory (vpcflow/s3.hpp) makes them (DESIGN.md,
/// "Configuration").

#include <memory>
#include <string>
#include <vector>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/service.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

/// The credential chain's inputs from a Config (HOME from the process environment). With
/// S3AccessFromEnvironment (config.hpp), the one way a program reads them from the environment.
CredentialsSettings CredentialsSettingsFromConfig(const Config& config);

/// The S3 endpoint of a Config: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else "" (AWS).
std::string S3EndpointFromConfig(const Config& config);

/// Which stores to build; a store is built when its flag is set and its bucket is not empty.
struct S3StoresWanted {
  bool source = false;
  bool storage = false;
  bool marker = false;
};

struct S3Stores {
  ObjectSourcePtr source;
  StoragePtr storage;
  MarkerPtr marker;
  /// Things the operator should know that do not stop the service (a server that ignores
  /// conditional writes, so marks are not atomic).
  std::vector<std::string> warnings;
};

/// Builds the wanted stores. Every failure (no credentials, a role that cannot be assumed, a
/// bucket that is missing or refused, an unreachable endpoint) is appended to `problems`, one
/// line naming the variable, and that store stays null. `http` must not be null.
S3Stores NewS3Stores(const Config& config, const S3StoresWanted& wanted,
                     std::shared_ptr<HttpClient> http, ClockPtr clock,
                     std::vector<std::string>* problems);

}  // namespace vpcflow
