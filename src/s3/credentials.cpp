#include "s3/credentials.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "modules/posix_file.hpp"
#include "modules/text_format.hpp"

namespace vpcflow {
namespace {

constexpr char kDefaultProfile[] = "default";
constexpr char kDefaultSessionName[] = "vpcflow-digesterd";
constexpr char kDefaultImdsEndpoint[] = "http://169.254.169.254";
constexpr char kDefaultRegion[] = "us-east-1";
constexpr char kStsVersion[] = "2011-06-15";
constexpr char kFormContentType[] = "application/x-www-form-urlencoded; charset=utf-8";

// Transient STS/IMDS failures are retried this many times in all, sleeping kRetryBaseDelayMs,
// then twice that: bounded (150 ms) so a caller waiting on a refresh is not held long.
constexpr int kMaxAttempts = 3;
constexpr int64_t kRetryBaseDelayMs = 50;
constexpr int64_t kStsTimeoutMs = 10000;
constexpr int64_t kImdsTimeoutMs = 1000;
// After a failed refresh that fell back to still-valid credentials, wait this long before trying
// again, so every Get() does not hit a failing STS.
constexpr int64_t kFailedRefreshBackoffMs = 10000;
// STS and IMDS messages are quoted in errors; cap them.
constexpr size_t kMaxQuotedMessage = 300;

// Debian's abseil has its own string_view (built as C++14), so absl::StripAsciiWhitespace and
// absl::AsciiStrToLower do not take std::string_view: two lines of our own instead.
std::string_view TrimSpace(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string StripTrailingSlashes(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedMessage) return std::string(text);
  return std::string(text.substr(0, kMaxQuotedMessage)) + "...";
}

// "a=b&c=d" with values percent-encoded (application/x-www-form-urlencoded accepts %20).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += UriEncode(value, /*encode_slash=*/true);
  }
  return out;
}

// --- retries -----------------------------------------------------------------------------------

using TransientPredicate = bool (*)(const HttpResponse&);

// Sends `request` up to kMaxAttempts times while the exchange fails (connection, timeout) or
// `transient` says the answer is worth retrying. Returns the last answer or the last error.
Result<HttpResponse> SendWithRetries(HttpClient& http, const HttpRequest& request,
                                     TransientPredicate transient) {
  Result<HttpResponse> result = UnavailableError("not sent");
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kRetryBaseDelayMs << (attempt - 2)));
    }
    result = http.Send(request);
    if (result.ok() ? !transient(*result)
                    : !(result.status().code() == StatusCode::kUnavailable ||
                        result.status().code() == StatusCode::kDeadlineExceeded)) {
      break;
    }
  }
  return result;
}

// --- the caching wrapper -------------------------------------------------------------------------

using FetchFunction = std::function<Result<AwsCredentials>()>;

// Caches what `fetch` returns and refreshes it `margin_ms` before expiry; at most one fetch at a
// time. Callers that find a refresh running keep the cached credentials while they are valid,
// else wait for that refresh and share its outcome.
class CachingProvider final : public CredentialsProvider {
 public:
  CachingProvider(std::string description, FetchFunction fetch, ClockPtr clock, int64_t margin_ms)
      : description_(std::move(description)),
        fetch_(std::move(fetch)),
        clock_(clock ? std::move(clock) : SystemClock()),
        margin_ms_(std::max<int64_t>(margin_ms, 0)) {}

  Result<AwsCredentials> Get() override {
    std::unique_lock lock(mu_);
    for (;;) {
      const int64_t now = clock_->NowUnixMillis();
      const bool valid = cached_.has_value() && IsValid(*cached_, now);
      if (valid && now < next_refresh_ms_) return *cached_;
      if (!refreshing_) break;
      if (valid) return *cached_;  // someone is refreshing; these still work
      const uint64_t generation = generation_;
      cv_.wait(lock, [&] { return generation_ != generation; });
      if (cached_.has_value() && IsValid(*cached_, clock_->NowUnixMillis())) return *cached_;
      if (!last_error_.ok()) return last_error_;
    }
    refreshing_ = true;
    lock.unlock();
    Result<AwsCredentials> fetched = fetch_();
    lock.lock();
    refreshing_ = false;
    ++generation_;
    const int64_t now = clock_->NowUnixMillis();
    Result<AwsCredentials> answer = fetched;
    if (fetched.ok()) {
      cached_ = *fetched;
      last_error_ = OkStatus();
      next_refresh_ms_ = NextRefresh(*fetched, now);
    } else if (cached_.has_value() && IsValid(*cached_, now)) {
      // Stale but valid: keep serving them and try again a little later.
      last_error_ = fetched.status();
      next_refresh_ms_ = std::min(now + kFailedRefreshBackoffMs, cached_->expires_unix_ms);
      answer = *cached_;
    } else {
      last_error_ = fetched.status();
      if (cached_.has_value()) {
        last_error_ = Status(last_error_.code(),
                             "credentials from " + description_ +
                                 " expired and the refresh failed: " + last_error_.message());
      }
      answer = last_error_;
    }
    cv_.notify_all();
    return answer;
  }

  std::string Describe() const override { return description_; }

 private:
  static bool IsValid(const AwsCredentials& credentials, int64_t now) {
    return credentials.expires_unix_ms == 0 || now < credentials.expires_unix_ms;
  }

  // expires - margin, but for short-lived credentials (less than twice the margin left) half
  // their remaining life, so they are not refetched at every call.
  int64_t NextRefresh(const AwsCredentials& credentials, int64_t now) const {
    if (credentials.expires_unix_ms == 0) return INT64_MAX;
    const int64_t by_margin = credentials.expires_unix_ms - margin_ms_;
    const int64_t by_half = now + (credentials.expires_unix_ms - now) / 2;
    return std::max(by_margin, by_half);
  }

  const std::string description_;
  const FetchFunction fetch_;
  const ClockPtr clock_;
  const int64_t margin_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool refreshing_ = false;
  uint64_t generation_ = 0;  // completed fetches
  std::optional<AwsCredentials> cached_;
  int64_t next_refresh_ms_ = 0;
  Status last_error_;
};

class StaticProvider final : public CredentialsProvider {
 public:
  StaticProvider(AwsCredentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}

  Result<AwsCredentials> Get() override { return credentials_; }
  std::string Describe() const override { return description_; }

 private:
  const AwsCredentials credentials_;
  const std::string description_;
};

// --- STS -------------------------------------------------------------------------------------

std::string StsEndpoint(const CredentialsSettings& settings) {
  if (!settings.sts_endpoint.empty()) return StripTrailingSlashes(settings.sts_endpoint);
  const std::string region = settings.region.empty() ? kDefaultRegion : settings.region;
  return "https://sts." + region + ".amazonaws.com";
}

std::string SessionName(const CredentialsSettings& settings) {
  return settings.role_session_name.empty() ? kDefaultSessionName : settings.role_session_name;
}

struct StsError {
  std::string code;
  std::string message;
};

// ErrorResponse/Error/{Code,Message}; empty fields when the body is not STS error XML.
StsError ParseStsError(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  pugi::xml_node error = doc.child("ErrorResponse").child("Error");
  return {error.child("Code").text().as_string(), error.child("Message").text().as_string()};
}

// STS answers throttling and identity-provider hiccups with 400 and these codes.
bool IsTransientSts(const HttpResponse& response) {
  if (response.status >= 500 || response.status == 429) return true;
  if (response.status != 400) return false;
  const std::string code = ParseStsError(response.body).code;
  return code == "Throttling" || code == "IDPCommunicationError";
}

// Sends an STS query request and turns its answer into credentials: `action` names the
// AssumeRole* action, whose XML is <action>Response/<action>Result/Credentials.
Result<AwsCredentials> CallSts(HttpClient& http, const HttpRequest& request,
                               std::string_view action, std::string_view what) {
  Result<HttpResponse> sent = SendWithRetries(http, request, IsTransientSts);
  if (!sent.ok()) {
    return Status(StatusCode::kUnavailable, std::string(what) + ": " + sent.status().message());
  }
  const HttpResponse& response = *sent;
  if (response.status != 200) {
    const StsError error = ParseStsError(response.body);
    std::string message = std::string(what) + ": HTTP " + std::to_string(response.status);
    if (!error.code.empty()) message += " " + Quoted(error.code) + ": " + Quoted(error.message);
    if (response.status >= 400 && response.status < 500 && !IsTransientSts(response)) {
      return PermissionDeniedError(message);
    }
    return UnavailableError(message + " after " + std::to_string(kMaxAttempts) + " attempts");
  }
  pugi::xml_document doc;
  const std::string response_name = std::string(action) + "Response";
  const std::string result_name = std::string(action) + "Result";
  pugi::xml_node credentials;
  if (doc.load_buffer(response.body.data(), response.body.size())) {
    credentials = doc.child(response_name.c_str()).child(result_name.c_str()).child("Credentials");
  }
  AwsCredentials out;
  out.keys.access_key_id = credentials.child("AccessKeyId").text().as_string();
  out.keys.secret_access_key = credentials.child("SecretAccessKey").text().as_string();
  out.keys.session_token = credentials.child("SessionToken").text().as_string();
  const std::optional<int64_t> expires =
      ParseRfc3339Millis(TrimSpace(credentials.child("Expiration").text().as_string()));
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty() ||
      out.keys.session_token.empty() || !expires.has_value()) {
    return UnavailableError(std::string(what) + ": unexpected answer (no " + result_name +
                            " with AccessKeyId, SecretAccessKey, SessionToken and Expiration)");
  }
  out.expires_unix_ms = *expires;
  return out;
}

// The host[:port] and path of an absolute http(s) URL, for the signed Host header.
struct UrlParts {
  std::string host;
  std::string path;
};

UrlParts SplitUrl(std::string_view text) {
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_uri(text);
  if (!url) return {std::string(text), "/"};  // the request then fails with the URL named
  std::string path(url->encoded_path());
  return {std::string(url->encoded_host_and_port()), path.empty() ? "/" : path};
}

// --- IMDS --------------------------------------------------------------------------------------

bool IsTransientHttp(const HttpResponse& response) {
  return response.status >= 500 || response.status == 429;
}

Result<HttpResponse> ImdsCall(HttpClient& http, HttpRequest request, std::string_view what,
                              std::string_view step) {
  request.timeout_ms = kImdsTimeoutMs;
  Result<HttpResponse> sent = SendWithRetries(http, request, IsTransientHttp);
  if (!sent.ok()) {
    return Status(StatusCode::kUnavailable,
                  std::string(what) + ": " + std::string(step) + ": " + sent.status().message());
  }
  if (sent->status == 200) return sent;
  const std::string message =
      std::string(what) + ": " + std::string(step) + ": HTTP " + std::to_string(sent->status);
  if (sent->status == 401 || sent->status == 403) return PermissionDeniedError(message);
  if (sent->status == 404) return FailedPreconditionError(message);
  return UnavailableError(message);
}

// AWS EC2 User Guide, "Retrieve security credentials from instance metadata" (IMDSv2).
Result<AwsCredentials> FetchImds(HttpClient& http, const std::string& endpoint,
                                 const std::string& what) {
  HttpRequest token_request{.method = "PUT", .url = endpoint + "/latest/api/token"};
  token_request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  ASSIGN_OR_RETURN(HttpResponse token_response,
                   ImdsCall(http, token_request, what, "session token (PUT /latest/api/token)"));
  const std::string token(TrimSpace(token_response.body));
  if (token.empty()) return UnavailableError(what + ": empty session token");

  const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
  HttpRequest role_request{.method = "GET", .url = base};
  role_request.headers = {{"X-aws-ec2-metadata-token", token}};
  Result<HttpResponse> roles = ImdsCall(http, role_request, what, "role name");
  if (!roles.ok()) {
    if (roles.status().code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError(what + ": no IAM role attached to this instance (" +
                                     roles.status().message() + ")");
    }
    return roles.status();
  }
  const std::string_view listing = roles->body;
  const std::string role(TrimSpace(listing.substr(0, listing.find('\n'))));
  if (role.empty())
    return FailedPreconditionError(what + ": no IAM role attached to this instance");

  HttpRequest credentials_request{.method = "GET", .url = base + UriEncode(role, true)};
  credentials_request.headers = {{"X-aws-ec2-metadata-token", token}};
  ASSIGN_OR_RETURN(HttpResponse answer,
                   ImdsCall(http, credentials_request, what, "credentials of role " + role));
  const nlohmann::json json =
      nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  const auto field = [&json](const char* name) -> std::string {
    if (!json.is_object()) return "";
    auto it = json.find(name);
    return it != json.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (!json.is_object()) return UnavailableError(what + ": role " + role + ": answer is not JSON");
  if (field("Code") != "Success") {
    return UnavailableError(what + ": role " + role + ": Code " + Quoted(field("Code")));
  }
  AwsCredentials out;
  out.keys.access_key_id = field("AccessKeyId");
  out.keys.secret_access_key = field("SecretAccessKey");
  out.keys.session_token = field("Token");
  const std::optional<int64_t> expires = ParseRfc3339Millis(field("Expiration"));
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty() ||
      !expires.has_value()) {
    return UnavailableError(what + ": role " + role +
                            ": answer lacks AccessKeyId, SecretAccessKey or Expiration");
  }
  out.expires_unix_ms = *expires;
  return out;
}

std::shared_ptr<HttpClient> OrCurl(std::shared_ptr<HttpClient> http) {
  return http ? std::move(http) : std::shared_ptr<HttpClient>(NewCurlHttpClient());
}

// --- environment -------------------------------------------------------------------------------

std::string FirstSet(const std::map<std::string, std::string>& env,
                     std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace

CredentialsSettings CredentialsSettingsFromEnvironment(
    const std::map<std::string, std::string>& env) {
  CredentialsSettings settings;
  settings.access_key_id = FirstSet(env, {"AWS_ACCESS_KEY_ID"});
  settings.secret_access_key = FirstSet(env, {"AWS_SECRET_ACCESS_KEY"});
  settings.session_token = FirstSet(env, {"AWS_SESSION_TOKEN"});
  settings.credentials_file =
      FirstSet(env, {"AWS_CREDENTIALS_FILE", "AWS_SHARED_CREDENTIALS_FILE"});
  settings.profile = FirstSet(env, {"AWS_CREDENTIALS_PROFILE", "AWS_PROFILE"});
  settings.web_identity_token_file = FirstSet(env, {"AWS_WEB_IDENTITY_TOKEN_FILE"});
  settings.role_arn = FirstSet(env, {"AWS_ROLE_ARN"});
  settings.role_session_name = FirstSet(env, {"AWS_ROLE_SESSION_NAME"});
  const std::string use_iam = Lower(TrimSpace(FirstSet(env, {"USE_IAM"})));
  settings.use_iam = use_iam == "true" || use_iam == "1" || use_iam == "yes";
  settings.ec2_metadata_endpoint = FirstSet(env, {"AWS_EC2_METADATA_SERVICE_ENDPOINT"});
  settings.sts_endpoint = FirstSet(env, {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"});
  settings.region = FirstSet(env, {"AWS_REGION", "AWS_DEFAULT_REGION"});
  settings.home = FirstSet(env, {"HOME"});
  return settings;
}

CredentialsProviderPtr NewStaticCredentialsProvider(AwsCredentials credentials,
                                                    std::string description) {
  return std::make_shared<StaticProvider>(std::move(credentials), std::move(description));
}

Result<AwsCredentials> LoadProfileCredentials(const std::string& path, std::string_view profile) {
  const std::string what = "profile " + std::string(profile) + " in " + path;
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status().WithContext("credentials file");

  bool found = false;
  bool in_profile = false;
  bool in_nested = false;  // indented sub-properties after "key =" with no value
  std::map<std::string, std::string> values;
  std::istringstream lines(*text);
  std::string raw;
  while (std::getline(lines, raw)) {
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view line = TrimSpace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      in_nested = false;
      const size_t close = line.find(']');
      std::string_view name = TrimSpace(
          line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      if (name.substr(0, 7) == "profile" && name.size() > 7 &&
          (name[7] == ' ' || name[7] == '\t')) {
        name = TrimSpace(name.substr(7));
      }
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (in_nested && indented) continue;
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;  // not key = value: ignored, never quoted
    const std::string key = Lower(TrimSpace(line.substr(0, equals)));
    std::string_view value = TrimSpace(line.substr(equals + 1));
    // An inline comment starts with whitespace then '#' or ';' (keys and tokens hold neither).
    for (size_t i = 1; i < value.size(); ++i) {
      if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
        value = TrimSpace(value.substr(0, i));
        break;
      }
    }
    in_nested = value.empty();
    if (in_profile) values[key] = std::string(value);
  }
  if (!found) return NotFoundError(what + ": no such profile");

  AwsCredentials out;
  out.keys.access_key_id = values["aws_access_key_id"];
  out.keys.secret_access_key = values["aws_secret_access_key"];
  out.keys.session_token = values["aws_session_token"];
  if (out.keys.access_key_id.empty()) {
    return FailedPreconditionError(what + " lacks aws_access_key_id");
  }
  if (out.keys.secret_access_key.empty()) {
    return FailedPreconditionError(what + " lacks aws_secret_access_key");
  }
  return out;
}

CredentialsProviderPtr NewWebIdentityProvider(const CredentialsSettings& settings,
                                              std::shared_ptr<HttpClient> http, ClockPtr clock) {
  const std::string what = "web identity " + settings.role_arn;
  FetchFunction fetch = [what, http = OrCurl(std::move(http)), endpoint = StsEndpoint(settings),
                         role_arn = settings.role_arn, session_name = SessionName(settings),
                         token_file =
                             settings.web_identity_token_file]() -> Result<AwsCredentials> {
    // Read at every refresh: Kubernetes rotates the projected token in place.
    Result<std::string> token = ReadWholeFile(token_file);
    if (!token.ok()) {
      return FailedPreconditionError(what + ": " + token.status().message());
    }
    const std::string_view trimmed = TrimSpace(*token);
    if (trimmed.empty()) {
      return FailedPreconditionError(what + ": web identity token file " + token_file +
                                     " is empty");
    }
    HttpRequest request{.method = "POST", .url = endpoint + "/", .timeout_ms = kStsTimeoutMs};
    request.headers = {{"Content-Type", kFormContentType}};
    request.body = FormEncode({{"Action", "AssumeRoleWithWebIdentity"},
                               {"RoleArn", role_arn},
                               {"RoleSessionName", session_name},
                               {"WebIdentityToken", std::string(trimmed)},
                               {"Version", kStsVersion}});
    return CallSts(*http, request, "AssumeRoleWithWebIdentity", what);
  };
  return std::make_shared<CachingProvider>(what, std::move(fetch), std::move(clock),
                                           settings.refresh_margin_ms);
}

CredentialsProviderPtr NewImdsProvider(const CredentialsSettings& settings,
                                       std::shared_ptr<HttpClient> http, ClockPtr clock) {
  const std::string endpoint =
      StripTrailingSlashes(settings.ec2_metadata_endpoint.empty() ? kDefaultImdsEndpoint
                                                                  : settings.ec2_metadata_endpoint);
  const std::string what = "imds " + endpoint;
  FetchFunction fetch = [what, endpoint, http = OrCurl(std::move(http))] {
    return FetchImds(*http, endpoint, what);
  };
  return std::make_shared<CachingProvider>(what, std::move(fetch), std::move(clock),
                                           settings.refresh_margin_ms);
}

CredentialsProviderPtr NewAssumeRoleProvider(CredentialsProviderPtr base, std::string role_arn,
                                             const CredentialsSettings& settings,
                                             std::shared_ptr<HttpClient> http, ClockPtr clock) {
  if (!clock) clock = SystemClock();
  const std::string what = "sts AssumeRole " + role_arn + " (base: " + base->Describe() + ")";
  FetchFunction fetch = [what, base, role_arn, clock, http = OrCurl(std::move(http)),
                         endpoint = StsEndpoint(settings),
                         region = settings.region.empty() ? kDefaultRegion : settings.region,
                         session_name = SessionName(settings)]() -> Result<AwsCredentials> {
    Result<AwsCredentials> base_credentials = base->Get();
    if (!base_credentials.ok()) return base_credentials.status().WithContext(what);
    const std::string body = FormEncode({{"Action", "AssumeRole"},
                                         {"RoleArn", role_arn},
                                         {"RoleSessionName", session_name},
                                         {"Version", kStsVersion},
                                         {"DurationSeconds", "3600"}});
    const UrlParts url = SplitUrl(endpoint);
    const SigV4Request to_sign{.method = "POST",
                               .path = url.path,
                               .query = {},
                               .headers = {{"Host", url.host}, {"Content-Type", kFormContentType}},
                               .payload_hash = Sha256Hex(body)};
    const SigV4Signature signature =
        SignV4(to_sign, base_credentials->keys, region, "sts", clock->NowUnixMillis() / 1000);
    HttpRequest request{.method = "POST",
                        .url = endpoint + (url.path == "/" ? "/" : ""),
                        .headers = to_sign.headers,
                        .body = body,
                        .timeout_ms = kStsTimeoutMs};
    request.headers.insert(request.headers.end(), signature.headers.begin(),
                           signature.headers.end());
    return CallSts(*http, request, "AssumeRole", what);
  };
  return std::make_shared<CachingProvider>(what, std::move(fetch), std::move(clock),
                                           settings.refresh_margin_ms);
}

Result<CredentialsProviderPtr> NewDefaultCredentialsChain(const CredentialsSettings& settings,
                                                          std::shared_ptr<HttpClient> http,
                                                          ClockPtr clock) {
  std::vector<std::string> tried;

  // (1) The environment keys.
  if (!settings.access_key_id.empty() && !settings.secret_access_key.empty()) {
    return NewStaticCredentialsProvider(
        AwsCredentials{
            .keys = {settings.access_key_id, settings.secret_access_key, settings.session_token}},
        "environment");
  }
  if (settings.access_key_id.empty() != settings.secret_access_key.empty()) {
    tried.push_back(settings.access_key_id.empty()
                        ? "environment (AWS_SECRET_ACCESS_KEY set without AWS_ACCESS_KEY_ID)"
                        : "environment (AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY)");
  } else {
    tried.push_back("environment (AWS_ACCESS_KEY_ID not set)");
  }

  // (2) The shared credentials file, when it exists.
  const std::string profile = settings.profile.empty() ? kDefaultProfile : settings.profile;
  std::string file = settings.credentials_file;
  if (file.empty() && !settings.home.empty()) file = settings.home + "/.aws/credentials";
  std::error_code ec;
  if (file.empty()) {
    tried.push_back("credentials file (no AWS_SHARED_CREDENTIALS_FILE and no HOME)");
  } else if (!std::filesystem::exists(file, ec)) {
    tried.push_back("credentials file " + file + " (does not exist)");
  } else {
    Result<AwsCredentials> loaded = LoadProfileCredentials(file, profile);
    if (loaded.ok()) {
      return NewStaticCredentialsProvider(*std::move(loaded), "profile " + profile + " in " + file);
    }
    // A profile asked for by name, or a broken one, is reported now rather than skipped.
    if (!IsNotFound(loaded.status()) || profile != kDefaultProfile) {
      return FailedPreconditionError("credentials: " + loaded.status().message());
    }
    tried.push_back(loaded.status().message());
  }

  // (3) Web identity, (4) the instance metadata service: asked once, now.
  const auto yields = [&tried](const CredentialsProviderPtr& provider) {
    Result<AwsCredentials> got = provider->Get();
    if (!got.ok()) tried.push_back(got.status().message());
    return got.ok();
  };
  if (settings.web_identity_token_file.empty() || settings.role_arn.empty()) {
    tried.push_back("web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not both set)");
  } else if (CredentialsProviderPtr web = NewWebIdentityProvider(settings, http, clock);
             yields(web)) {
    return web;
  }
  if (!settings.use_iam) {
    tried.push_back("imds (USE_IAM not set)");
  } else if (CredentialsProviderPtr imds = NewImdsProvider(settings, http, clock); yields(imds)) {
    return imds;
  }

  std::string message = "no AWS credentials found; tried: ";
  for (size_t i = 0; i < tried.size(); ++i) {
    if (i > 0) message += "; ";
    message += tried[i];
  }
  return FailedPreconditionError(message);
}

}  // namespace vpcflow
