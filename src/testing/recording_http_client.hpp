#pragma once
/// RecordingHttpClient: an HttpClient for tests that records every request and answers with
/// scripted results, in order; when the script is empty it answers the default (200, empty
/// body, unless set). A request's body_into receives the answer's body, as a real client's does.
/// Thread-safe (one mutex).

#include <deque>
#include <mutex>
#include <vector>

#include "vpcflow/http_client.hpp"

namespace vpcflow {

class RecordingHttpClient final : public HttpClient {
 public:
  /// Appends a result (a response, or an error status such as Unavailable) to the script.
  void Push(Result<HttpResponse> result);
  /// Shorthand: a response with this status and body.
  void PushStatus(int status, std::string body = "");
  /// The answer once the script is used up.
  void SetDefault(Result<HttpResponse> result);

  Result<HttpResponse> Send(const HttpRequest& request) override;

  std::vector<HttpRequest> requests() const;
  size_t request_count() const;

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  Result<HttpResponse> default_ = HttpResponse{.status = 200};
  std::vector<HttpRequest> requests_;
};

}  // namespace vpcflow
