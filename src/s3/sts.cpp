#include "s3/sts.hpp"

#include <boost/url/parse.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/posix_file.hpp"
#include "modules/text_format.hpp"
#include "s3/caching_provider.hpp"
#include "s3/credentials_http.hpp"
#include "s3/sigv4.hpp"

namespace vpcflow {
namespace {

constexpr char kDefaultSessionName[] = "vpcflow-digesterd";
constexpr char kDefaultRegion[] = "us-east-1";
constexpr char kStsVersion[] = "2011-06-15";
constexpr char kFormContentType[] = "application/x-www-form-urlencoded; charset=utf-8";
constexpr int64_t kStsTimeoutMs = 10000;

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
  if (IsTransientHttpAnswer(response)) return true;
  if (response.status != 400) return false;
  const std::string code = ParseStsError(response.body).code;
  return code == "Throttling" || code == "IDPCommunicationError";
}

// Sends an STS query request and turns its answer into credentials: `action` names the
// AssumeRole* action, whose XML is <action>Response/<action>Result/Credentials.
Result<AwsCredentials> CallSts(HttpClient& http, const HttpRequest& request,
                               std::string_view action, std::string_view what,
                               const Sleeper& sleep) {
  Result<HttpResponse> sent = SendWithRetries(http, request, IsTransientSts, sleep);
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
    return UnavailableError(message + " after " +
                            std::to_string(kCredentialsRetryPolicy.max_attempts) + " attempts");
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

}  // namespace

CredentialsProviderPtr NewWebIdentityProvider(const CredentialsSettings& settings,
                                              std::shared_ptr<HttpClient> http, ClockPtr clock) {
  const std::string what = "web identity " + settings.role_arn;
  CredentialsFetch fetch = [what, http = OrCurl(std::move(http)), endpoint = StsEndpoint(settings),
                            role_arn = settings.role_arn, session_name = SessionName(settings),
                            token_file = settings.web_identity_token_file,
                            sleep = settings.sleep]() -> Result<AwsCredentials> {
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
    return CallSts(*http, request, "AssumeRoleWithWebIdentity", what, sleep);
  };
  return NewCachingProvider(what, std::move(fetch), std::move(clock), settings.refresh_margin_ms);
}

CredentialsProviderPtr NewAssumeRoleProvider(const CredentialsProviderPtr& base,
                                             std::string role_arn,
                                             const CredentialsSettings& settings,
                                             std::shared_ptr<HttpClient> http, ClockPtr clock,
                                             const AssumeRoleOptions& options) {
  if (!clock) clock = SystemClock();
  const std::string what = "sts AssumeRole " + role_arn + " (base: " + base->Describe() + ")";
  CredentialsFetch fetch =
      [what, base, role_arn, clock, http = OrCurl(std::move(http)),
       endpoint = StsEndpoint(settings),
       region = settings.region.empty() ? kDefaultRegion : settings.region,
       session_name = options.session_name.empty() ? SessionName(settings) : options.session_name,
       external_id = options.external_id, sleep = settings.sleep]() -> Result<AwsCredentials> {
    Result<AwsCredentials> base_credentials = base->Get();
    if (!base_credentials.ok()) return base_credentials.status().WithContext(what);
    std::vector<std::pair<std::string, std::string>> fields = {{"Action", "AssumeRole"},
                                                               {"RoleArn", role_arn},
                                                               {"RoleSessionName", session_name},
                                                               {"Version", kStsVersion},
                                                               {"DurationSeconds", "3600"}};
    if (!external_id.empty()) fields.emplace_back("ExternalId", external_id);
    const std::string body = FormEncode(fields);
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
    return CallSts(*http, request, "AssumeRole", what, sleep);
  };
  return NewCachingProvider(what, std::move(fetch), std::move(clock), settings.refresh_margin_ms);
}

}  // namespace vpcflow
