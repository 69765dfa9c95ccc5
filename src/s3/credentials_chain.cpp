#include "s3/credentials_chain.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "s3/container_credentials.hpp"
#include "s3/credentials_http.hpp"
#include "s3/imds.hpp"
#include "s3/process_credentials.hpp"
#include "s3/profile_file.hpp"
#include "s3/sts.hpp"

namespace vpcflow {
namespace {

constexpr char kDefaultProfile[] = "default";
constexpr char kDefaultRegion[] = "us-east-1";
// A role chain longer than this is a mistake (AWS allows role chaining, not unbounded depth).
constexpr size_t kMaxRoleChain = 8;

std::string ProfileName(const CredentialsSettings& settings) {
  return settings.profile.empty() ? kDefaultProfile : settings.profile;
}

CredentialsProviderPtr EnvironmentProvider(const CredentialsSettings& settings) {
  return NewStaticCredentialsProvider(
      AwsCredentials{
          .keys = {settings.access_key_id, settings.secret_access_key, settings.session_token}},
      "environment");
}

// Builds the providers of profiles: the profile's own and those of its role chain.
class ProfileProviders {
 public:
  ProfileProviders(const CredentialsSettings& settings, std::shared_ptr<HttpClient> http,
                   ClockPtr clock)
      : settings_(settings), http_(OrCurl(std::move(http))), clock_(std::move(clock)) {}

  // The provider of `profile`, or null when it holds no credentials. `chain` lists the profiles
  // already on the way here (source_profile loops are errors).
  Result<CredentialsProviderPtr> For(const AwsProfile& profile, std::vector<std::string> chain) {
    chain.push_back(profile.name);
    if (const std::string role = profile.Get("role_arn"); !role.empty()) {
      VPCFLOW_ASSIGN_OR_RETURN(CredentialsProviderPtr base, SourceOf(profile, chain));
      CredentialsSettings sts_settings = settings_;
      if (const std::string region = profile.Get("region"); sts_settings.region.empty()) {
        sts_settings.region = region;
      }
      return NewAssumeRoleProvider(std::move(base), role, sts_settings, http_, clock_,
                                   {.session_name = profile.Get("role_session_name"),
                                    .external_id = profile.Get("external_id")});
    }
    if (!profile.Get("aws_access_key_id").empty() ||
        !profile.Get("aws_secret_access_key").empty()) {
      VPCFLOW_ASSIGN_OR_RETURN(AwsCredentials keys, ProfileKeys(profile));
      return NewStaticCredentialsProvider(std::move(keys), profile.source);
    }
    if (const std::string command = profile.Get("credential_process"); !command.empty()) {
      return NewProcessProvider(
          {.command = command, .description = "credential_process of " + profile.source}, settings_,
          clock_);
    }
    return CredentialsProviderPtr{};
  }

 private:
  // The credentials a role_arn is assumed with.
  Result<CredentialsProviderPtr> SourceOf(const AwsProfile& profile,
                                          const std::vector<std::string>& chain) {
    const std::string source = profile.Get("source_profile");
    const std::string credential_source = profile.Get("credential_source");
    if (!source.empty() && !credential_source.empty()) {
      return FailedPreconditionError(profile.source +
                                     " sets both source_profile and credential_source");
    }
    if (!credential_source.empty()) return CredentialSource(profile, credential_source);
    if (source.empty()) {
      return FailedPreconditionError(profile.source +
                                     " has role_arn but neither source_profile nor "
                                     "credential_source");
    }
    if (source == profile.name) {
      // A profile that is its own source assumes the role with its own keys (as the SDKs do).
      VPCFLOW_ASSIGN_OR_RETURN(AwsCredentials keys, ProfileKeys(profile));
      return NewStaticCredentialsProvider(std::move(keys), profile.source);
    }
    if (std::find(chain.begin(), chain.end(), source) != chain.end() ||
        chain.size() >= kMaxRoleChain) {
      std::string path;
      for (const std::string& name : chain) path += name + " -> ";
      return FailedPreconditionError("source_profile loop: " + path + source);
    }
    Result<AwsProfile> loaded = LoadProfile(settings_, source);
    if (!loaded.ok()) {
      return FailedPreconditionError("source_profile " + source + " of " + profile.source + ": " +
                                     loaded.status().message());
    }
    VPCFLOW_ASSIGN_OR_RETURN(CredentialsProviderPtr base, For(*loaded, chain));
    if (base == nullptr) {
      return FailedPreconditionError("source_profile " + source + " of " + profile.source + ": " +
                                     loaded->source + " holds no credentials");
    }
    return base;
  }

  Result<CredentialsProviderPtr> CredentialSource(const AwsProfile& profile,
                                                  const std::string& name) {
    if (name == "Environment") {
      if (settings_.access_key_id.empty() || settings_.secret_access_key.empty()) {
        return FailedPreconditionError(profile.source +
                                       ": credential_source Environment, but AWS_ACCESS_KEY_ID "
                                       "and AWS_SECRET_ACCESS_KEY are not both set");
      }
      return EnvironmentProvider(settings_);
    }
    if (name == "Ec2InstanceMetadata") return NewImdsProvider(settings_, http_, clock_);
    if (name == "EcsContainer") {
      if (!HasContainerCredentials(settings_)) {
        return FailedPreconditionError(profile.source +
                                       ": credential_source EcsContainer, but neither "
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is "
                                       "set");
      }
      return NewContainerProvider(settings_, http_, clock_);
    }
    return FailedPreconditionError(profile.source + ": credential_source \"" + Quoted(name) +
                                   "\" is not Environment, Ec2InstanceMetadata or EcsContainer");
  }

  const CredentialsSettings& settings_;
  const std::shared_ptr<HttpClient> http_;
  const ClockPtr clock_;
};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? "; " : "") + parts[i];
  return out;
}

}  // namespace

Result<CredentialsProviderPtr> NewDefaultCredentialsChain(const CredentialsSettings& settings,
                                                          std::shared_ptr<HttpClient> http,
                                                          const ClockPtr& clock) {
  http = OrCurl(std::move(http));
  std::vector<std::string> tried;

  // (1) The environment keys.
  if (!settings.access_key_id.empty() && !settings.secret_access_key.empty()) {
    return EnvironmentProvider(settings);
  }
  if (settings.access_key_id.empty() != settings.secret_access_key.empty()) {
    tried.emplace_back(settings.access_key_id.empty()
                           ? "environment (AWS_SECRET_ACCESS_KEY set without AWS_ACCESS_KEY_ID)"
                           : "environment (AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY)");
  } else {
    tried.emplace_back("environment (AWS_ACCESS_KEY_ID not set)");
  }

  // (2) The profile of the shared files.
  const std::string profile_name = ProfileName(settings);
  Result<AwsProfile> profile = LoadProfile(settings, profile_name);
  if (profile.ok()) {
    ProfileProviders providers(settings, http, clock);
    Result<CredentialsProviderPtr> provider = providers.For(*profile, {});
    if (!provider.ok()) {
      return FailedPreconditionError("credentials: " + provider.status().message());
    }
    if (*provider != nullptr) {
      // Roles and programs are asked now, so a broken one is reported at start-up.
      if (Result<AwsCredentials> got = (*provider)->Get(); !got.ok()) {
        return Status(got.status().code(), "credentials: " + got.status().message());
      }
      return provider;
    }
    tried.emplace_back(profile->source +
                       " (no aws_access_key_id, role_arn or credential_process in it)");
  } else if (!IsNotFound(profile.status()) || profile_name != kDefaultProfile) {
    // A file that cannot be read, or a profile asked for by name that is not there.
    return FailedPreconditionError("credentials: " + profile.status().message());
  } else {
    tried.emplace_back("credentials file and config file (" + profile.status().message() + ")");
  }

  // (3) Web identity, (4) container credentials, (5) the instance metadata service: asked once,
  // now.
  const auto yields = [&tried](const CredentialsProviderPtr& provider) {
    Result<AwsCredentials> got = provider->Get();
    if (!got.ok()) tried.emplace_back(got.status().message());
    return got.ok();
  };
  if (settings.web_identity_token_file.empty() || settings.role_arn.empty()) {
    tried.emplace_back("web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set)");
  } else if (CredentialsProviderPtr web = NewWebIdentityProvider(settings, http, clock);
             yields(web)) {
    return web;
  }
  if (!HasContainerCredentials(settings)) {
    tried.emplace_back("container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set)");
  } else {
    Result<CredentialsProviderPtr> container = NewContainerProvider(settings, http, clock);
    if (!container.ok()) return FailedPreconditionError(container.status().message());
    if (yields(*container)) return container;
  }
  if (!settings.use_iam) {
    tried.emplace_back("imds (USE_IAM not set)");
  } else if (CredentialsProviderPtr imds = NewImdsProvider(settings, http, clock); yields(imds)) {
    return imds;
  }
  return FailedPreconditionError("no AWS credentials found; tried: " + Join(tried));
}

ResolvedRegion ResolveRegion(const CredentialsSettings& settings, HttpClient& http) {
  if (!settings.region.empty()) return {settings.region, "environment"};
  std::vector<std::string> why;
  Result<AwsProfile> profile = LoadProfile(settings, ProfileName(settings));
  if (profile.ok() && !profile->Get("region").empty()) {
    return {profile->Get("region"), profile->source};
  }
  if (settings.use_iam) {
    Result<std::string> region = ImdsRegion(settings, http);
    if (region.ok()) return {*region, "imds"};
    why.push_back(region.status().message());
  }
  return {kDefaultRegion, why.empty() ? "default" : "default (" + Join(why) + ")"};
}

}  // namespace vpcflow
