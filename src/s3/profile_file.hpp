#pragma once
/// The AWS shared files: the credentials file (AWS_SHARED_CREDENTIALS_FILE, default
/// ~/.aws/credentials) and the config file (AWS_CONFIG_FILE, default ~/.aws/config), as the AWS
/// SDKs read them (AWS SDKs and Tools Reference Guide, "Shared config and credentials files").
///
/// Format: INI. `[section]` headers, `key = value` lines, `#` and `;` comment lines, inline
/// comments after whitespace, keys case-insensitive; a `key =` with no value opens indented
/// sub-properties (skipped). In the credentials file a section is a profile ("name", or
/// "profile name"); in the config file profiles are `[profile name]` and `[default]` (other
/// sections, such as `[sso-session x]` or `[services x]`, are not profiles). Pure parsing;
/// messages name files and profiles, never a value.

#include <map>
#include <string>
#include <string_view>

#include "s3/credentials.hpp"

namespace vpcflow {

enum class ProfileFileKind { kCredentials, kConfig };

/// profile name -> (lower-case key -> value).
using ProfileSections = std::map<std::string, std::map<std::string, std::string>>;

/// The profiles of a file's text. Never fails: lines that are not understood are skipped.
ProfileSections ParseProfileText(std::string_view text, ProfileFileKind kind);

/// One profile as the SDKs see it: the properties of both files, the credentials file's winning
/// where both set a key.
struct AwsProfile {
  std::string name{};
  std::map<std::string, std::string> properties{};
  std::string source{};  ///< "profile prod in <file>[ and <file>]": for messages
  /// The value of `key` (lower case), "" when unset.
  std::string Get(const std::string& key) const;
};

/// The credentials file of `settings` (settings.credentials_file, else $HOME/.aws/credentials,
/// else "").
std::string CredentialsFilePath(const CredentialsSettings& settings);
/// The config file of `settings` (settings.config_file, else $HOME/.aws/config, else "").
std::string ConfigFilePath(const CredentialsSettings& settings);

/// Reads profile `name` from both files of `settings` (a missing file counts as empty).
/// NotFound when neither file has the profile; the read error when a file exists but cannot be
/// read.
Result<AwsProfile> LoadProfile(const CredentialsSettings& settings, const std::string& name);

/// The long-term keys of `profile` in the credentials file at `path` (aws_access_key_id,
/// aws_secret_access_key, aws_session_token). Returns NotFound when the file or the profile does
/// not exist, FailedPrecondition when the profile lacks a key, the read error (ErrnoStatus) when
/// the file cannot be read. Messages name the file and profile only.
Result<AwsCredentials> LoadProfileCredentials(const std::string& path, std::string_view profile);

/// The keys of a loaded profile: FailedPrecondition naming what is missing.
Result<AwsCredentials> ProfileKeys(const AwsProfile& profile);

}  // namespace vpcflow
