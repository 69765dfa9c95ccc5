#pragma once
/// What the credential sources that ask a server (STS, IMDS, the container endpoint) share:
/// their retry policy and its runner over an HttpClient, and the small text helpers of their
/// messages. Internal to src/s3. Pure or thread-safe as stated per function.

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/retry.hpp"
#include "s3/credentials.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Three attempts, full jitter capped at 50 then 100 ms: bounded (about 150 ms at most) so a
/// caller waiting on a refresh is not held long.
inline constexpr RetryPolicy kCredentialsRetryPolicy{
    .max_attempts = 3, .base_delay_ms = 50, .max_delay_ms = 100};

/// Whether an answer (not an exchange error) is worth another attempt.
using TransientAnswer = bool (*)(const HttpResponse&);

/// An answer with a status of IsRetryableHttpStatus.
bool IsTransientHttpAnswer(const HttpResponse& response);

/// Sends `request` under kCredentialsRetryPolicy while the exchange fails transiently
/// (IsTransientError) or `transient` says the answer is worth retrying, waiting through `sleep`
/// (null = ThreadSleeper()). Returns the last answer or the last error. Thread-safe if `http`
/// is.
Result<HttpResponse> SendWithRetries(HttpClient& http, const HttpRequest& request,
                                     TransientAnswer transient, const Sleeper& sleep);

/// The credentials in a JSON document of a source (IMDS, the container endpoint,
/// credential_process): strings AccessKeyId, SecretAccessKey, the session token under
/// `token_field` ("Token" or "SessionToken") and Expiration (RFC 3339; when absent the
/// credentials do not expire, unless `expiration_required`). Errors have `code`, start with
/// `what` and name the field that is wrong, never a value. Pure.
Result<AwsCredentials> CredentialsFromJson(const boost::json::object& json,
                                           std::string_view token_field, bool expiration_required,
                                           StatusCode code, const std::string& what);

/// `http`, or a new NewCurlHttpClient() when it is null.
std::shared_ptr<HttpClient> OrCurl(std::shared_ptr<HttpClient> http);

/// `text` without leading and trailing spaces, tabs, CR and LF. Pure.
std::string_view TrimSpace(std::string_view text);
/// ASCII lower case. Pure.
std::string AsciiLower(std::string_view text);
/// `text` without trailing '/'. Pure.
std::string StripTrailingSlashes(std::string text);
/// `text` cut to 300 bytes (with "..."): for quoting a server's message in an error. Pure.
std::string Quoted(std::string_view text);
/// "a=b&c=d" with the values percent-encoded (application/x-www-form-urlencoded). Pure.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace vpcflow
