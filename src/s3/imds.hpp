#pragma once
/// The EC2 instance metadata service, IMDSv2 (AWS EC2 User Guide, "Use the Instance Metadata
/// Service to access instance metadata"): the instance role's credentials and the instance's
/// region. Every read first gets a session token (PUT /latest/api/token with a TTL header);
/// requests have a short timeout (1 s, 3 attempts) so a machine without IMDS fails fast.

#include <memory>
#include <string>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {

/// The instance role's credentials: GET /latest/meta-data/iam/security-credentials/ (the role
/// name) and .../<role> (JSON). Cached and refreshed. FailedPrecondition when no role is
/// attached, PermissionDenied when IMDS refuses (401/403), Unavailable when it cannot be
/// reached. `http` null = curl, `clock` null = SystemClock().
CredentialsProviderPtr NewImdsProvider(const CredentialsSettings& settings,
                                       std::shared_ptr<HttpClient> http, ClockPtr clock);

/// The instance's region: GET /latest/meta-data/placement/region. Errors as NewImdsProvider's;
/// InvalidArgument when the answer is not a region name.
Result<std::string> ImdsRegion(const CredentialsSettings& settings, HttpClient& http);

}  // namespace vpcflow
