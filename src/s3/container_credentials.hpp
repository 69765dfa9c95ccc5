#pragma once
/// Container credentials, as the AWS SDKs read them on ECS (task roles) and EKS (Pod Identity):
/// a GET of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on the ECS agent (http://169.254.170.2), or of
/// AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header from
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at every refresh, as EKS rotates it) or
/// AWS_CONTAINER_AUTHORIZATION_TOKEN. The answer is JSON: AccessKeyId, SecretAccessKey, Token,
/// Expiration (RFC 3339). Requests: 2 s timeout, retried on 429/5xx and connection errors;
/// cached and refreshed (caching_provider.hpp).

#include <memory>
#include <string>
#include <string_view>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {

/// Whether the SDKs allow `url` as a full URI: any https URL; an http URL only to a loopback
/// address (127.0.0.0/8, ::1, "localhost"), the ECS agent (169.254.170.2) or the EKS Pod
/// Identity agent (169.254.170.23, fd00:ec2::23), so credentials are never sent in clear text
/// to another host. Host names other than localhost are not resolved (refused over http). Pure.
bool IsAllowedContainerUri(std::string_view url);

/// Whether `settings` names container credentials (a relative or a full URI).
bool HasContainerCredentials(const CredentialsSettings& settings);

/// The container source of `settings` (the relative URI wins when both are set).
/// InvalidArgument when the full URI is not allowed (IsAllowedContainerUri) or the token holds
/// CR/LF; FailedPrecondition from Get() when the token file cannot be read, PermissionDenied when
/// the endpoint answers 401/403, Unavailable when it cannot be reached or its answer is not
/// usable. Describe(): "container credentials <url without query>". `http` null = curl, `clock`
/// null = SystemClock().
Result<CredentialsProviderPtr> NewContainerProvider(const CredentialsSettings& settings,
                                                    std::shared_ptr<HttpClient> http,
                                                    ClockPtr clock);

}  // namespace vpcflow
