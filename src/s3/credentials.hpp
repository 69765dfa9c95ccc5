#pragma once
/// AWS credentials for the S3 client: the providers and the default chain (issue 4).
///
/// The chain tries, in order, and the first source that yields credentials wins (as the AWS SDKs
/// do): (1) the environment keys, (2) the shared credentials file and profile, (3) web identity
/// (STS AssumeRoleWithWebIdentity with a token file), (4) with USE_IAM the EC2 instance metadata
/// service (IMDSv2). A bucket's `*_ROLE` wraps the chain's result in STS AssumeRole.
///
/// Temporary credentials are cached and refreshed `refresh_margin_ms` before they expire; Get()
/// is thread-safe and at most one refresh runs at a time (others wait for it, or keep using the
/// cached credentials while they are still valid). A refresh that fails while the cached
/// credentials are still valid returns the cached ones; once they expired, the error.
///
/// Secrets never appear in Describe(), in error messages or in logs: messages name the source
/// ("profile prod in /root/.aws/credentials", "sts AssumeRole arn:aws:iam::1:role/r") and the
/// cause, never a key, secret, token or web identity token.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "s3/sigv4.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Credentials with their expiry.
struct AwsCredentials {
  SigV4Credentials keys;
  int64_t expires_unix_ms = 0;  ///< 0 = does not expire (long-term keys)
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  CredentialsProvider() = default;
  CredentialsProvider(const CredentialsProvider&) = delete;
  CredentialsProvider& operator=(const CredentialsProvider&) = delete;

  /// Current credentials. Returns Unavailable when the source cannot be reached (after its own
  /// retries), PermissionDenied when it refuses, FailedPrecondition when it is not configured
  /// or its files are missing or malformed. Thread-safe.
  [[nodiscard]] virtual Result<AwsCredentials> Get() = 0;
  /// Where the credentials come from, without secrets: "environment",
  /// "profile default in /root/.aws/credentials", "web identity arn:...", "imds
  /// http://169.254.169.254", "sts AssumeRole arn:... (base: environment)".
  virtual std::string Describe() const = 0;
};
using CredentialsProviderPtr = std::shared_ptr<CredentialsProvider>;

/// The inputs of the chain, read from the environment (or a Config).
struct CredentialsSettings {
  std::string access_key_id{};      ///< AWS_ACCESS_KEY_ID
  std::string secret_access_key{};  ///< AWS_SECRET_ACCESS_KEY
  std::string session_token{};      ///< AWS_SESSION_TOKEN
  /// AWS_CREDENTIALS_FILE (older service) or AWS_SHARED_CREDENTIALS_FILE; "" =
  /// $HOME/.aws/credentials.
  std::string credentials_file{};
  /// AWS_CREDENTIALS_PROFILE (older service) or AWS_PROFILE; "" = "default".
  std::string profile{};
  std::string web_identity_token_file{};  ///< AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn{};                 ///< AWS_ROLE_ARN (web identity only)
  std::string role_session_name{};        ///< AWS_ROLE_SESSION_NAME; "" = "vpcflow-digesterd"
  bool use_iam = false;                   ///< USE_IAM
  /// AWS_EC2_METADATA_SERVICE_ENDPOINT; "" = "http://169.254.169.254".
  std::string ec2_metadata_endpoint{};
  /// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL; "" = "https://sts.<region>.amazonaws.com".
  std::string sts_endpoint{};
  std::string region{};  ///< AWS_REGION, else AWS_DEFAULT_REGION; "" = "us-east-1"
  std::string home{};    ///< HOME (for the default credentials file)
  int64_t refresh_margin_ms = 5 * 60 * 1000;  ///< refresh this long before expiry
};

/// Reads CredentialsSettings from an environment map (names above; the older service's names
/// win over the SDK's when both are set). USE_IAM accepts true/false/1/0/yes/no.
CredentialsSettings CredentialsSettingsFromEnvironment(
    const std::map<std::string, std::string>& env);

/// Fixed credentials (environment keys, tests). Never expire unless `expires_unix_ms` is set.
CredentialsProviderPtr NewStaticCredentialsProvider(AwsCredentials credentials,
                                                    std::string description);

/// Parses an AWS shared credentials file (INI: `[profile]` sections, `key = value` lines, `#` and
/// `;` comments; keys aws_access_key_id, aws_secret_access_key, aws_session_token; section names
/// "name" or "profile name"). Returns NotFound when the file or the profile does not exist,
/// FailedPrecondition when the profile lacks a key, the read error (ErrnoStatus) when the file
/// cannot be read. Messages name the file and profile only.
Result<AwsCredentials> LoadProfileCredentials(const std::string& path, std::string_view profile);

/// STS AssumeRoleWithWebIdentity (an unsigned STS query request with the token read from
/// `token_file` at every refresh, as Kubernetes rotates it). Cached and refreshed.
CredentialsProviderPtr NewWebIdentityProvider(const CredentialsSettings& settings,
                                              std::shared_ptr<HttpClient> http, ClockPtr clock);

/// EC2 instance metadata, IMDSv2: PUT /latest/api/token (TTL header), then
/// GET /latest/meta-data/iam/security-credentials/ (role name) and .../<role> (JSON). Cached and
/// refreshed; a short timeout (1 s per request, 3 attempts) so a machine without IMDS fails fast.
CredentialsProviderPtr NewImdsProvider(const CredentialsSettings& settings,
                                       std::shared_ptr<HttpClient> http, ClockPtr clock);

/// STS AssumeRole of `role_arn`, the request signed with `base`'s credentials (service "sts",
/// settings.region). Cached and refreshed. Session name: settings.role_session_name.
CredentialsProviderPtr NewAssumeRoleProvider(CredentialsProviderPtr base, std::string role_arn,
                                             const CredentialsSettings& settings,
                                             std::shared_ptr<HttpClient> http, ClockPtr clock);

/// The default chain of the file comment. Resolution happens once, here: the first source that
/// is configured and yields credentials is returned (so a broken profile is reported now, not at
/// the first request). Returns FailedPrecondition listing what was tried when none yields.
Result<CredentialsProviderPtr> NewDefaultCredentialsChain(const CredentialsSettings& settings,
                                                          std::shared_ptr<HttpClient> http,
                                                          ClockPtr clock);

}  // namespace vpcflow
