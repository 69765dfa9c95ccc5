#include "s3/container_credentials.hpp"

#include <arpa/inet.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <cstring>
#include <utility>

#include "common/redact.hpp"
#include "modules/posix_file.hpp"
#include "s3/caching_provider.hpp"
#include "s3/credentials_http.hpp"

namespace vpcflow {
namespace {

constexpr char kEcsAgent[] = "http://169.254.170.2";
constexpr int64_t kContainerTimeoutMs = 2000;
// The answer is a small JSON document; anything bigger is not one.
constexpr size_t kMaxAnswerBytes = size_t{64} * 1024;

bool IsLoopbackOrAgent(std::string host) {
  if (host == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned char v4[4];
  if (inet_pton(AF_INET, host.c_str(), v4) == 1) {
    if (v4[0] == 127) return true;  // 127.0.0.0/8
    return v4[0] == 169 && v4[1] == 254 && v4[2] == 170 && (v4[3] == 2 || v4[3] == 23);  // ECS, EKS
  }
  unsigned char v6[16];
  if (inet_pton(AF_INET6, host.c_str(), v6) == 1) {
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char kEks[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0, 0x23};
    return std::memcmp(v6, kLoopback, 16) == 0 || std::memcmp(v6, kEks, 16) == 0;
  }
  return false;
}

bool HasLineBreak(std::string_view text) {
  return text.find('\r') != std::string_view::npos || text.find('\n') != std::string_view::npos;
}

// The token of the settings: the file's (trimmed) when a file is named, else the variable's.
Result<std::string> AuthorizationToken(const std::string& file, const std::string& token,
                                       const std::string& what) {
  if (file.empty()) return token;
  Result<std::string> text = ReadWholeFile(file);
  if (!text.ok()) {
    return FailedPreconditionError(what + ": authorization token file: " + text.status().message());
  }
  std::string trimmed(TrimSpace(*text));
  if (HasLineBreak(trimmed)) {
    return FailedPreconditionError(what + ": the authorization token file " + file +
                                   " holds a line break");
  }
  return trimmed;
}

Result<AwsCredentials> FetchContainer(HttpClient& http, const std::string& url,
                                      const std::string& token_file, const std::string& token,
                                      const std::string& what, const Sleeper& sleep) {
  VPCFLOW_ASSIGN_OR_RETURN(const std::string authorization,
                           AuthorizationToken(token_file, token, what));
  HttpRequest request{.method = "GET", .url = url, .timeout_ms = kContainerTimeoutMs};
  request.headers = {{"Accept", "application/json"}};
  if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
  Result<HttpResponse> sent = SendWithRetries(http, request, IsTransientHttpAnswer, sleep);
  if (!sent.ok()) {
    return Status(StatusCode::kUnavailable, what + ": " + RedactUrls(sent.status().message()));
  }
  const std::string status = "HTTP " + std::to_string(sent->status);
  if (sent->status == 401 || sent->status == 403) {
    return PermissionDeniedError(what + ": " + status + " (is the authorization token right?)");
  }
  if (sent->status != 200) return UnavailableError(what + ": " + status);
  if (sent->body.size() > kMaxAnswerBytes)
    return UnavailableError(what + ": the answer is too big");
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(sent->body, ec);
  if (ec || !json.is_object()) return UnavailableError(what + ": the answer is not a JSON object");
  return CredentialsFromJson(json.as_object(), "Token", /*expiration_required=*/false,
                             StatusCode::kUnavailable, what);
}

}  // namespace

bool IsAllowedContainerUri(std::string_view text) {
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_absolute_uri(text);
  if (!url || !url->has_authority() || url->encoded_host().empty()) return false;
  if (url->scheme_id() == boost::urls::scheme::https) return true;
  if (url->scheme_id() != boost::urls::scheme::http) return false;
  return IsLoopbackOrAgent(std::string(url->encoded_host_address()));
}

bool HasContainerCredentials(const CredentialsSettings& settings) {
  return !settings.container_relative_uri.empty() || !settings.container_full_uri.empty();
}

Result<CredentialsProviderPtr> NewContainerProvider(const CredentialsSettings& settings,
                                                    std::shared_ptr<HttpClient> http,
                                                    ClockPtr clock) {
  std::string url;
  if (!settings.container_relative_uri.empty()) {
    const std::string host =
        StripTrailingSlashes(settings.container_host.empty() ? kEcsAgent : settings.container_host);
    const std::string& path = settings.container_relative_uri;
    url = host + (path.front() == '/' ? "" : "/") + path;
  } else {
    url = settings.container_full_uri;
    if (!IsAllowedContainerUri(url)) {
      return InvalidArgumentError(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI \"" + RedactUrl(url) +
          "\" is not allowed: it must be https, or http to a loopback address, 169.254.170.2 "
          "(ECS) or 169.254.170.23 / fd00:ec2::23 (EKS)");
    }
  }
  if (HasLineBreak(settings.container_authorization_token)) {
    return InvalidArgumentError("AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break");
  }
  const std::string what = "container credentials " + RedactUrl(url);
  CredentialsFetch fetch = [what, url, http = OrCurl(std::move(http)),
                            token_file = settings.container_authorization_token_file,
                            token = settings.container_authorization_token,
                            sleep = settings.sleep] {
    return FetchContainer(*http, url, token_file, token, what, sleep);
  };
  return NewCachingProvider(what, std::move(fetch), std::move(clock), settings.refresh_margin_ms);
}

}  // namespace vpcflow
