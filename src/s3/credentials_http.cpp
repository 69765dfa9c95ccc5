#include "s3/credentials_http.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "modules/text_format.hpp"
#include "s3/sigv4.hpp"

namespace vpcflow {
namespace {

// Servers' messages are quoted in errors; cap them.
constexpr size_t kMaxQuotedMessage = 300;

}  // namespace

bool IsTransientHttpAnswer(const HttpResponse& response) {
  return IsRetryableHttpStatus(response.status);
}

Result<HttpResponse> SendWithRetries(HttpClient& http, const HttpRequest& request,
                                     TransientAnswer transient, const Sleeper& sleep) {
  Result<HttpResponse> result = UnavailableError("not sent");
  Retry(
      kCredentialsRetryPolicy,
      [&](int) {
        result = http.Send(request);
        const bool again = result.ok() ? transient(*result) : IsTransientError(result.status());
        return again ? RetryVerdict::kRetry : RetryVerdict::kStop;
      },
      sleep);
  return result;
}

Result<AwsCredentials> CredentialsFromJson(const boost::json::object& json,
                                           std::string_view token_field, bool expiration_required,
                                           StatusCode code, const std::string& what) {
  const auto field = [&json](std::string_view name) -> std::string {
    const boost::json::value* v = json.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
  };
  AwsCredentials out;
  out.keys.access_key_id = field("AccessKeyId");
  out.keys.secret_access_key = field("SecretAccessKey");
  out.keys.session_token = field(token_field);
  if (out.keys.access_key_id.empty() || out.keys.secret_access_key.empty()) {
    return Status(code, what + ": no AccessKeyId or SecretAccessKey");
  }
  const std::string expiration = field("Expiration");
  if (expiration.empty()) {
    if (expiration_required) return Status(code, what + ": no Expiration");
    return out;
  }
  const std::optional<int64_t> expires = ParseRfc3339Millis(expiration);
  if (!expires.has_value()) return Status(code, what + ": Expiration is not an RFC 3339 time");
  out.expires_unix_ms = *expires;
  return out;
}

std::shared_ptr<HttpClient> OrCurl(std::shared_ptr<HttpClient> http) {
  return http ? std::move(http) : std::shared_ptr<HttpClient>(NewCurlHttpClient());
}

std::string_view TrimSpace(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string AsciiLower(std::string_view text) {
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

}  // namespace vpcflow
