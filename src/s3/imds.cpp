#include "s3/imds.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string_view>
#include <utility>

#include "common/aws_names.hpp"
#include "s3/caching_provider.hpp"
#include "s3/credentials_http.hpp"
#include "s3/sigv4.hpp"

namespace vpcflow {
namespace {

constexpr char kDefaultImdsEndpoint[] = "http://169.254.169.254";
constexpr int64_t kImdsTimeoutMs = 1000;

std::string ImdsEndpoint(const CredentialsSettings& settings) {
  return StripTrailingSlashes(settings.ec2_metadata_endpoint.empty()
                                  ? kDefaultImdsEndpoint
                                  : settings.ec2_metadata_endpoint);
}

Result<HttpResponse> ImdsCall(HttpClient& http, HttpRequest request, std::string_view what,
                              std::string_view step, const Sleeper& sleep) {
  request.timeout_ms = kImdsTimeoutMs;
  Result<HttpResponse> sent = SendWithRetries(http, request, IsTransientHttpAnswer, sleep);
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

// The IMDSv2 session token (a secret: never in a message).
Result<std::string> ImdsToken(HttpClient& http, const std::string& endpoint,
                              const std::string& what, const Sleeper& sleep) {
  HttpRequest token_request{.method = "PUT", .url = endpoint + "/latest/api/token"};
  token_request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  VPCFLOW_ASSIGN_OR_RETURN(
      HttpResponse token_response,
      ImdsCall(http, token_request, what, "session token (PUT /latest/api/token)", sleep));
  std::string token(TrimSpace(token_response.body));
  if (token.empty()) return UnavailableError(what + ": empty session token");
  return token;
}

// AWS EC2 User Guide, "Retrieve security credentials from instance metadata" (IMDSv2).
Result<AwsCredentials> FetchImds(HttpClient& http, const std::string& endpoint,
                                 const std::string& what, const Sleeper& sleep) {
  VPCFLOW_ASSIGN_OR_RETURN(const std::string token, ImdsToken(http, endpoint, what, sleep));

  const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
  HttpRequest role_request{.method = "GET", .url = base};
  role_request.headers = {{"X-aws-ec2-metadata-token", token}};
  Result<HttpResponse> roles = ImdsCall(http, role_request, what, "role name", sleep);
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
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse answer, ImdsCall(http, credentials_request, what,
                                                         "credentials of role " + role, sleep));
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(answer.body, ec);
  if (ec || !json.is_object()) {
    return UnavailableError(what + ": role " + role + ": answer is not JSON");
  }
  const boost::json::value* code = json.as_object().if_contains("Code");
  if (code == nullptr || !code->is_string() || code->as_string() != "Success") {
    const std::string shown =
        code != nullptr && code->is_string() ? std::string(code->as_string()) : "";
    return UnavailableError(what + ": role " + role + ": Code " + Quoted(shown));
  }
  return CredentialsFromJson(json.as_object(), "Token", /*expiration_required=*/true,
                             StatusCode::kUnavailable, what + ": role " + role);
}

}  // namespace

CredentialsProviderPtr NewImdsProvider(const CredentialsSettings& settings,
                                       std::shared_ptr<HttpClient> http, ClockPtr clock) {
  const std::string endpoint = ImdsEndpoint(settings);
  const std::string what = "imds " + endpoint;
  CredentialsFetch fetch = [what, endpoint, http = OrCurl(std::move(http)),
                            sleep = settings.sleep] {
    return FetchImds(*http, endpoint, what, sleep);
  };
  return NewCachingProvider(what, std::move(fetch), std::move(clock), settings.refresh_margin_ms);
}

Result<std::string> ImdsRegion(const CredentialsSettings& settings, HttpClient& http) {
  const std::string endpoint = ImdsEndpoint(settings);
  const std::string what = "imds " + endpoint;
  VPCFLOW_ASSIGN_OR_RETURN(const std::string token,
                           ImdsToken(http, endpoint, what, settings.sleep));
  HttpRequest request{.method = "GET", .url = endpoint + "/latest/meta-data/placement/region"};
  request.headers = {{"X-aws-ec2-metadata-token", token}};
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse answer,
                           ImdsCall(http, request, what, "region", settings.sleep));
  const std::string_view region = TrimSpace(answer.body);
  if (!IsAwsRegionName(region)) {
    return InvalidArgumentError(what + ": region: the answer is not a region name");
  }
  return std::string(region);
}

}  // namespace vpcflow
