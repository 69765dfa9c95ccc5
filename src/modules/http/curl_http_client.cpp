#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/redact.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

namespace {

constexpr size_t kMaxIdleHandles = 16;
constexpr long kMaxConnectTimeoutMs = 10000;

// Messages never show user-info or query strings (presigned URLs carry credentials there); curl's
// own detail may quote the URL too.
Status CurlStatus(CURLcode code, const HttpRequest& request, const char* detail) {
  std::string message = request.method + " " + RedactUrl(request.url) + ": " +
                        RedactUrls(detail[0] != '\0' ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(std::move(message));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError(std::move(message));
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return InternalError(std::move(message));
    default:
      return UnavailableError(std::move(message));
  }
}

// Bodies announced larger than this are reserved only this far (a wrong Content-Length must not
// allocate unbounded memory) and grow as they come beyond it.
constexpr uint64_t kMaxBodyReserveBytes = uint64_t{64} << 20;
// curl's receive buffer (its default is 16 KiB): one recv and one poll round per 512 KiB of a
// large body instead of per 16 KiB.
constexpr long kReceiveBufferBytes = long{512} * 1024;

// Where one exchange's answer goes (CURLOPT_WRITEDATA and CURLOPT_HEADERDATA).
struct Receiver {
  HttpResponse* response;
  std::string* body;  // response->body, or the request's body_into
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<Receiver*>(user)->body->append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* receiver = static_cast<Receiver*>(user);
  HttpResponse* response = receiver->response;
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after 100 Continue): forget the previous one
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (name == "content-length") {
    // The body then arrives into memory allocated once, not regrown (and copied) as it comes.
    uint64_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc() && end == value.data() + value.size()) {
      receiver->body->reserve(
          static_cast<size_t>(std::min(length, kMaxBodyReserveBytes) + receiver->body->size()));
    }
  }
  response->headers.emplace_back(std::move(name), std::string(value));
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}
  ~CurlHttpClient() override {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    CURL* handle = Acquire();
    if (handle == nullptr) return InternalError("curl_easy_init failed");
    Result<HttpResponse> result = Perform(handle, request, options_);
    Release(handle);
    return result;
  }

 private:
  // An idle handle keeps its connections, so reusing it reuses them (curl_easy_reset keeps them).
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    curl_easy_reset(handle);
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
    } else {
      curl_easy_cleanup(handle);
    }
  }

  static Result<HttpResponse> Perform(CURL* handle, const HttpRequest& request,
                                      const CurlHttpClientOptions& options) {
    HttpResponse response;
    Receiver receiver{&response, request.body_into != nullptr ? request.body_into : &response.body};
    receiver.body->clear();
    char error[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    bool has_content_type = false;
    auto add_header = [&](const std::string& line) {
      curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
      if (appended != nullptr) {
        // The list's head: the one `headers` holds, or a new one for an empty list.
        (void)headers.release();
        headers.reset(appended);
      }
    };
    for (const auto& [name, value] : request.headers) {
      // "name;" is curl's spelling of a header with an empty value.
      std::string line = name;
      line += value.empty() ? ";" : ": ";
      line += value;
      add_header(line);
      has_content_type = has_content_type || EqualsIgnoreCase(name, "content-type");
    }
    add_header("Expect:");
    bool with_body = request.method != "GET" && request.method != "HEAD";
    if (with_body && !has_content_type) add_header("Content-Type:");

    curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
    // Keys may hold "./" or "../": send the path as signed, never normalised (S3 keys are opaque).
    curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    // Verifying is curl's default; said here so that no reset or option turns it off unseen.
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options.ca_file.c_str());
    if (request.timeout_ms > 0) {
      curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
      curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                       std::min(static_cast<long>(request.timeout_ms), kMaxConnectTimeoutMs));
    }
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &receiver);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &receiver);
    curl_easy_setopt(handle, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    if (request.method == "GET") {
      curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      if (request.method != "POST") {
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      }
    }

    CURLcode code = curl_easy_perform(handle);
    if (code != CURLE_OK) return CurlStatus(code, request, error);
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  const CurlHttpClientOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

HttpClientPtr NewCurlHttpClient(CurlHttpClientOptions options) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<CurlHttpClient>(std::move(options));
}

std::string CaFileFromEnvironment(const std::map<std::string, std::string>& env) {
  for (const char* name : {"AWS_CA_BUNDLE", "SSL_CERT_FILE"}) {
    auto it = env.find(name);
    if (it != env.end() && !it->second.empty()) return it->second;
  }
  return "";
}

}  // namespace vpcflow
