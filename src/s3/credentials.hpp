#pragma once
/// AWS credentials for the S3 client (issue 4): what a credentials source is, and the settings
/// every source reads. The sources are one per file beside this one (static here; caching,
/// sts, imds, profile_file, container_credentials, process_credentials) and
/// credentials_chain.hpp tries them in the order the AWS SDKs do.
///
/// Secrets never appear in Describe(), in error messages or in logs: messages name the source
/// ("profile prod in /root/.aws/credentials", "sts AssumeRole arn:aws:iam::1:role/r") and the
/// cause, never a key, secret, token, web identity token or authorization token.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/retry.hpp"
#include "s3/sigv4.hpp"
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

/// The inputs of the sources and the chain, read from the environment (or a Config).
struct CredentialsSettings {
  std::string access_key_id{};      ///< AWS_ACCESS_KEY_ID
  std::string secret_access_key{};  ///< AWS_SECRET_ACCESS_KEY
  std::string session_token{};      ///< AWS_SESSION_TOKEN
  /// AWS_CREDENTIALS_FILE (older service) or AWS_SHARED_CREDENTIALS_FILE; "" =
  /// $HOME/.aws/credentials.
  std::string credentials_file{};
  std::string config_file{};  ///< AWS_CONFIG_FILE; "" = $HOME/.aws/config
  /// AWS_CREDENTIALS_PROFILE (older service) or AWS_PROFILE; "" = "default".
  std::string profile{};
  std::string web_identity_token_file{};  ///< AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn{};                 ///< AWS_ROLE_ARN (web identity only)
  std::string role_session_name{};        ///< AWS_ROLE_SESSION_NAME; "" = "vpcflow-digesterd"
  /// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: a path on `container_host` (ECS task roles).
  std::string container_relative_uri{};
  /// AWS_CONTAINER_CREDENTIALS_FULL_URI: any https URL, or http to a loopback, ECS or EKS
  /// address (IsAllowedContainerUri).
  std::string container_full_uri{};
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN: sent as the Authorization header (a secret).
  std::string container_authorization_token{};
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: read at every refresh; wins over the former.
  std::string container_authorization_token_file{};
  /// Where a relative URI is asked: "" = "http://169.254.170.2" (the ECS agent). No variable
  /// sets it: tests point it at a local stand-in.
  std::string container_host{};
  bool use_iam = false;  ///< USE_IAM
  /// AWS_EC2_METADATA_SERVICE_ENDPOINT; "" = "http://169.254.169.254".
  std::string ec2_metadata_endpoint{};
  /// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL; "" = "https://sts.<region>.amazonaws.com".
  std::string sts_endpoint{};
  /// AWS_REGION, else AWS_DEFAULT_REGION; "" = ResolveRegion (credentials_chain.hpp) finds it,
  /// and "us-east-1" where nothing names one.
  std::string region{};
  std::string home{};                                  ///< HOME (for the default files)
  int64_t refresh_margin_ms = int64_t{5} * 60 * 1000;  ///< refresh this long before expiry
  /// Waits between the retries of STS, IMDS and container requests; null = ThreadSleeper().
  /// Tests record instead of waiting.
  Sleeper sleep{};
};

/// Fixed credentials (environment keys, profile keys, tests). Never expire unless
/// `expires_unix_ms` is set.
CredentialsProviderPtr NewStaticCredentialsProvider(AwsCredentials credentials,
                                                    std::string description);

}  // namespace vpcflow
