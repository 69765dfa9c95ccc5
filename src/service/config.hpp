#pragma once
/// Single settings of the environment for programs that do not read a whole Config (the CLI),
/// read and checked by the same code as ConfigFromEnvironment (config.cpp), so a value means
/// the same and is refused with the same message everywhere. Pure.

#include <cstdint>
#include <map>
#include <string>

#include "vpcflow/service.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// DIGEST_MAX_WINDOW of `env` in seconds (kDefaultMaxWindowSeconds when unset or empty): seconds
/// or a duration of h/m/s parts, 1 s to 366 days. InvalidArgument naming the variable otherwise.
Result<int64_t> MaxWindowFromEnvironment(const std::map<std::string, std::string>& env);

/// A Config with only the S3 access settings of `env` read (credentials, AWS_REGION, the
/// endpoints, the CA bundle; the rest default), checked as ConfigFromEnvironment checks them:
/// for CredentialsSettingsFromConfig and S3EndpointFromConfig (service/s3_stores.hpp).
/// InvalidArgument naming the variables (never their secret values) otherwise.
Result<Config> S3AccessFromEnvironment(const std::map<std::string, std::string>& env);

}  // namespace vpcflow
