#pragma once
/// The default credentials chain and region, in the order the AWS SDKs document them (AWS SDKs
/// and Tools Reference Guide, "Understand the credential provider chain"; DESIGN.md, "S3
/// credentials"). The first source that is configured and yields credentials wins:
///
///  1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
///  2. the profile (AWS_PROFILE, else "default") of the shared files (profile_file.hpp), which
///     holds, in this order of precedence: `role_arn` with `source_profile` (chained AssumeRole:
///     the source profile's credentials, themselves possibly a role) or `credential_source`
///     (Environment, Ec2InstanceMetadata, EcsContainer); long-term keys; `credential_process`;
///  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (STS);
///  4. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI (ECS, EKS);
///  5. with USE_IAM, the EC2 instance metadata service (IMDSv2).
///
/// A bucket's `*_ROLE` wraps the chain's result in STS AssumeRole (s3_modules.hpp).

#include <memory>
#include <string>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {

/// The chain of the file comment. Resolution happens once, here: the first source that is
/// configured and yields credentials is returned (so a broken profile, a role that cannot be
/// assumed or a failing credential_process is reported now, not at the first request). A profile
/// named with AWS_PROFILE that does not exist is an error; the "default" profile may be absent,
/// and a profile without credentials in it (only a region, say) is passed over. Returns
/// FailedPrecondition listing what was tried when no source yields. `http` null = curl,
/// `clock` null = SystemClock().
Result<CredentialsProviderPtr> NewDefaultCredentialsChain(const CredentialsSettings& settings,
                                                          std::shared_ptr<HttpClient> http,
                                                          const ClockPtr& clock);

/// A region and where it came from ("environment", "profile prod in <file>", "imds <url>",
/// "default").
struct ResolvedRegion {
  std::string region;
  std::string source;
};

/// The region the SDKs would use: settings.region (AWS_REGION, else AWS_DEFAULT_REGION), else
/// the profile's `region` in the config file, else with USE_IAM the instance's region (IMDS),
/// else "us-east-1" (the source then says why, e.g. "default (imds ...: unreachable)").
/// Never fails: a region is always found. `http` is used only for IMDS.
ResolvedRegion ResolveRegion(const CredentialsSettings& settings, HttpClient& http);

}  // namespace vpcflow
