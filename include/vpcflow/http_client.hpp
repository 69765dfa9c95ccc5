#pragma once
/// HttpClient: outgoing HTTP (the event-bus queuer; later S3). Thread-safe. The default is
/// libcurl with connection reuse; the client does not retry (callers own their retry policy).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vpcflow/status.hpp"

namespace vpcflow {

struct HttpRequest {
  std::string method = "GET";  ///< GET, HEAD, POST, PUT, DELETE, ...
  std::string url{};
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  int64_t timeout_ms = 10000;  ///< whole request (connecting: at most 10 s of it)
  /// Optional, not owned: the response's body is read into this string instead of
  /// HttpResponse::body (which stays empty). It is cleared first and its capacity kept, so a
  /// caller reading many bodies into one string touches no fresh memory per body. On an error
  /// it holds whatever arrived. Must outlive Send and not be used by another thread meanwhile.
  std::string* body_into = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers{};  ///< names lower-cased
  std::string body{};
  /// The value of the first header named `name` (compared case-insensitively), or "".
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends the request. Any HTTP status is a successful exchange (check response.status).
  /// Returns Unavailable for connection failures, DeadlineExceeded on timeout, InvalidArgument
  /// for a malformed URL.
  [[nodiscard]] virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};
using HttpClientPtr = std::unique_ptr<HttpClient>;

struct CurlHttpClientOptions {
  /// PEM file of the CA certificates HTTPS servers are verified against; "" = the system's.
  std::string ca_file{};
};

/// libcurl, connection reuse (a pool of easy handles, each used by one request at a time).
/// HTTPS servers are always verified (certificate chain and host name) against the CAs of
/// `options.ca_file` or the system's. http and https only; redirects are not followed; bodies
/// are not decoded; no "Expect: 100-continue". The request's body is sent for every method but
/// GET and HEAD; a content-type is sent only when given. A body announced by Content-Length is
/// read into memory reserved once for that length (up to 64 MiB; larger bodies grow as they
/// come), through a receive buffer of 512 KiB. Error messages name the method and
/// the URL without its query string (which may hold credentials), never a body or a header.
HttpClientPtr NewCurlHttpClient(CurlHttpClientOptions options = {});

/// The CA file of the AWS SDK and OpenSSL conventions in `env`: AWS_CA_BUNDLE, else
/// SSL_CERT_FILE, else "" (the system's).
std::string CaFileFromEnvironment(const std::map<std::string, std::string>& env);

class HttpClientWrapper : public HttpClient {
 public:
  explicit HttpClientWrapper(HttpClient* target) : target_(target) {}
  Result<HttpResponse> Send(const HttpRequest& request) override { return target_->Send(request); }
  HttpClient* target() const { return target_; }

 private:
  HttpClient* target_;
};

}  // namespace vpcflow
