#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "common/redact.hpp"
#include "common/retry.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {

std::string HttpQueuerUrl(const HttpQueuerOptions& options) {
  std::string endpoint = options.endpoint;
  size_t scheme = endpoint.find("://");
  size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = endpoint.find_first_of("/?#", authority);
  if (path != std::string::npos && endpoint[path] == '/' && path + 1 < endpoint.size()) {
    return endpoint;
  }
  if (path != std::string::npos) endpoint.resize(path);  // a lone "/" (or a query) is no path
  return endpoint + "/" + options.topic + "/digest";
}

namespace {

// The queuer's retries in the project's one policy (common/retry.hpp): doubling without jitter,
// as documented for HttpQueuerOptions.
RetryPolicy QueuerRetryPolicy(const HttpQueuerOptions& options) {
  return {.max_attempts = options.max_attempts,
          .base_delay_ms = options.backoff_ms,
          .max_delay_ms = kHttpQueuerMaxBackoffMs,
          .full_jitter = false};
}

}  // namespace

int64_t HttpQueuerBackoffMs(const HttpQueuerOptions& options, int retry) {
  return RetryBackoffMillis(QueuerRetryPolicy(options), retry, 0.0);
}

namespace {

class HttpQueuer final : public Queuer {
 public:
  HttpQueuer(HttpQueuerOptions options, HttpClient* client)
      : options_(std::move(options)),
        client_(client),
        url_(HttpQueuerUrl(options_)),
        shown_url_(RedactUrl(url_)) {}

  ~HttpQueuer() override { Shutdown(0); }

  void SetHandler(JobHandler) override {}

  Status Queue(const Job& job) override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return FailedPreconditionError("the job queue is shut down");
      ++in_flight_;
    }
    Status status = Post(job);
    std::lock_guard lock(mu_);
    if (--in_flight_ == 0) cv_.notify_all();
    return status;
  }

  std::vector<Job> Shutdown(int64_t) override {
    std::unique_lock lock(mu_);
    closed_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return in_flight_ == 0; });
    return {};
  }

  std::string Describe() const override { return "http:" + shown_url_; }

 private:
  Status Post(const Job& job) {
    HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.headers = {{"content-type", "application/json"}};
    if (!options_.bearer_token.empty()) {
      request.headers.emplace_back("authorization", "Bearer " + options_.bearer_token);
    }
    request.body = JobToJson(job);
    request.timeout_ms = options_.timeout_ms;
    std::string last_error;
    Status answer;
    auto attempt = [&](int) {
      Result<HttpResponse> response = client_->Send(request);
      if (response.ok()) {
        int code = response->status;
        if (code >= 200 && code < 300) {
          answer = OkStatus();
        } else if (code == 400 || code == 413 || code == 415 || code == 422) {
          answer = InvalidArgumentError("event bus " + shown_url_ + " refused the job: HTTP " +
                                        std::to_string(code));
        } else if (!IsRetryableHttpStatus(code)) {
          answer = FailedPreconditionError("event bus " + shown_url_ + " answered HTTP " +
                                           std::to_string(code));
        } else {
          last_error = "HTTP " + std::to_string(code);
          return RetryVerdict::kRetry;
        }
        return RetryVerdict::kStop;
      }
      // Any HttpClient's message, redacted here too: it may quote the URL.
      const Status status(response.status().code(), RedactUrls(response.status().message()));
      if (!IsTransientError(status)) {
        answer = status.WithContext("event bus " + shown_url_);
        return RetryVerdict::kStop;
      }
      last_error = status.ToString();
      return RetryVerdict::kRetry;
    };
    // A wait is cut short by Shutdown().
    auto sleep = [this](int64_t ms) {
      std::unique_lock lock(mu_);
      return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return closed_; });
    };
    const RetryOutcome outcome = Retry(QueuerRetryPolicy(options_), attempt, sleep);
    if (outcome.interrupted) {
      return FailedPreconditionError("the job queue shut down while retrying " + shown_url_);
    }
    if (outcome.exhausted) {
      return UnavailableError("event bus " + shown_url_ + " did not accept the job after " +
                              std::to_string(outcome.attempts) + " attempts; last: " + last_error);
    }
    return answer;
  }

  const HttpQueuerOptions options_;
  HttpClient* const client_;
  const std::string url_;
  const std::string shown_url_;  // url_ for messages and logs: no user-info, no query
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  bool closed_ = false;
};

}  // namespace

QueuerPtr NewHttpQueuer(HttpQueuerOptions options, HttpClient* client) {
  return std::make_unique<HttpQueuer>(std::move(options), client);
}

}  // namespace vpcflow
