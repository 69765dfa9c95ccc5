#include "s3/profile_file.hpp"

#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>

#include "modules/posix_file.hpp"
#include "s3/credentials_http.hpp"

namespace vpcflow {
namespace {

// The profile a section header names in a file of `kind`, or "" when it names none.
std::string ProfileOfSection(std::string_view name, ProfileFileKind kind) {
  const bool prefixed =
      name.substr(0, 7) == "profile" && name.size() > 7 && (name[7] == ' ' || name[7] == '\t');
  if (prefixed) return std::string(TrimSpace(name.substr(7)));
  if (kind == ProfileFileKind::kCredentials || name == "default") return std::string(name);
  return "";
}

// The sections of the file at `path`; empty when the file does not exist.
Result<ProfileSections> ReadProfileFile(const std::string& path, ProfileFileKind kind) {
  if (path.empty()) return ProfileSections{};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return ProfileSections{};
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    return text.status().WithContext(kind == ProfileFileKind::kConfig ? "config file"
                                                                      : "credentials file");
  }
  return ParseProfileText(*text, kind);
}

std::string DefaultPath(const CredentialsSettings& settings, const std::string& set,
                        const char* file) {
  if (!set.empty()) return set;
  if (settings.home.empty()) return "";
  return settings.home + "/.aws/" + file;
}

}  // namespace

ProfileSections ParseProfileText(std::string_view text, ProfileFileKind kind) {
  ProfileSections sections;
  std::map<std::string, std::string>* current = nullptr;
  bool in_nested = false;  // indented sub-properties after "key =" with no value
  std::istringstream lines{std::string(text)};
  std::string raw;
  while (std::getline(lines, raw)) {
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      in_nested = false;
      const size_t close = line.find(']');
      const std::string_view name = TrimSpace(
          line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      const std::string profile = ProfileOfSection(name, kind);
      current = profile.empty() ? nullptr : &sections[profile];
      continue;
    }
    if (in_nested && indented) continue;
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;  // not key = value: ignored, never quoted
    const std::string key = AsciiLower(TrimSpace(line.substr(0, equals)));
    std::string_view value = TrimSpace(line.substr(equals + 1));
    // An inline comment starts with whitespace then '#' or ';' (keys and tokens hold neither).
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
        value = TrimSpace(value.substr(0, i));
        break;
      }
    }
    in_nested = value.empty();
    if (current != nullptr) (*current)[key] = std::string(value);
  }
  return sections;
}

std::string AwsProfile::Get(const std::string& key) const {
  auto it = properties.find(key);
  return it == properties.end() ? "" : it->second;
}

std::string CredentialsFilePath(const CredentialsSettings& settings) {
  return DefaultPath(settings, settings.credentials_file, "credentials");
}

std::string ConfigFilePath(const CredentialsSettings& settings) {
  return DefaultPath(settings, settings.config_file, "config");
}

Result<AwsProfile> LoadProfile(const CredentialsSettings& settings, const std::string& name) {
  const std::string credentials_path = CredentialsFilePath(settings);
  const std::string config_path = ConfigFilePath(settings);
  VPCFLOW_ASSIGN_OR_RETURN(ProfileSections config,
                           ReadProfileFile(config_path, ProfileFileKind::kConfig));
  VPCFLOW_ASSIGN_OR_RETURN(ProfileSections credentials,
                           ReadProfileFile(credentials_path, ProfileFileKind::kCredentials));
  AwsProfile profile{.name = name};
  std::string files;
  if (auto it = config.find(name); it != config.end()) {
    profile.properties = it->second;
    files = config_path;
  }
  if (auto it = credentials.find(name); it != credentials.end()) {
    for (const auto& [key, value] : it->second) profile.properties[key] = value;
    files = files.empty() ? credentials_path : files + " and " + credentials_path;
  }
  if (files.empty()) {
    std::string where = credentials_path.empty() ? "" : credentials_path;
    if (!config_path.empty()) where += (where.empty() ? "" : " or ") + config_path;
    return NotFoundError("profile " + name + ": no such profile in " +
                         (where.empty() ? "any file (no HOME)" : where));
  }
  profile.source = "profile " + name + " in " + files;
  return profile;
}

Result<AwsCredentials> ProfileKeys(const AwsProfile& profile) {
  AwsCredentials out;
  out.keys.access_key_id = profile.Get("aws_access_key_id");
  out.keys.secret_access_key = profile.Get("aws_secret_access_key");
  out.keys.session_token = profile.Get("aws_session_token");
  if (out.keys.access_key_id.empty()) {
    return FailedPreconditionError(profile.source + " lacks aws_access_key_id");
  }
  if (out.keys.secret_access_key.empty()) {
    return FailedPreconditionError(profile.source + " lacks aws_secret_access_key");
  }
  return out;
}

Result<AwsCredentials> LoadProfileCredentials(const std::string& path, std::string_view profile) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status().WithContext("credentials file");
  const ProfileSections sections = ParseProfileText(*text, ProfileFileKind::kCredentials);
  const std::string name(profile);
  auto it = sections.find(name);
  if (it == sections.end()) {
    return NotFoundError("profile " + name + " in " + path + ": no such profile");
  }
  return ProfileKeys(AwsProfile{
      .name = name, .properties = it->second, .source = "profile " + name + " in " + path});
}

}  // namespace vpcflow
