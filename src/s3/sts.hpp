#pragma once
/// Credentials from AWS STS: AssumeRoleWithWebIdentity (a Kubernetes service account's token)
/// and AssumeRole (a role over other credentials: a bucket's `*_ROLE`, a profile's role_arn).
/// Both are query-API POSTs to settings.sts_endpoint (default https://sts.<region>.amazonaws.com),
/// retried on 429/5xx, Throttling and IDPCommunicationError (credentials_http.hpp), cached and
/// refreshed (caching_provider.hpp). A refusal is PermissionDenied naming the role and STS's code.

#include <memory>
#include <string>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {

/// STS AssumeRoleWithWebIdentity of settings.role_arn (an unsigned request with the token read
/// from settings.web_identity_token_file at every refresh, as Kubernetes rotates it). `http`
/// null = curl, `clock` null = SystemClock().
CredentialsProviderPtr NewWebIdentityProvider(const CredentialsSettings& settings,
                                              std::shared_ptr<HttpClient> http, ClockPtr clock);

/// What an AssumeRole names besides the role.
struct AssumeRoleOptions {
  std::string session_name{};  ///< "" = settings.role_session_name, else "vpcflow-digesterd"
  std::string external_id{};   ///< ExternalId, "" = none (a profile's external_id)
};

/// STS AssumeRole of `role_arn`, the request signed with `base`'s credentials (service "sts",
/// settings.region, else us-east-1) and asking for an hour. Describe(): "sts AssumeRole <arn>
/// (base: <base's description>)". A failure of `base` is returned with that context.
CredentialsProviderPtr NewAssumeRoleProvider(const CredentialsProviderPtr& base,
                                             std::string role_arn,
                                             const CredentialsSettings& settings,
                                             std::shared_ptr<HttpClient> http, ClockPtr clock,
                                             const AssumeRoleOptions& options = {});

}  // namespace vpcflow
