#include "testing/recording_http_client.hpp"

namespace vpcflow {

void RecordingHttpClient::Push(Result<HttpResponse> result) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(result));
}

void RecordingHttpClient::PushStatus(int status, std::string body) {
  Push(HttpResponse{.status = status, .body = std::move(body)});
}

void RecordingHttpClient::SetDefault(Result<HttpResponse> result) {
  std::lock_guard lock(mu_);
  default_ = std::move(result);
}

Result<HttpResponse> RecordingHttpClient::Send(const HttpRequest& request) {
  std::lock_guard lock(mu_);
  requests_.push_back(request);
  requests_.back().body_into = nullptr;  // the caller's string may be gone when it is read
  Result<HttpResponse> result = default_;
  if (!script_.empty()) {
    result = std::move(script_.front());
    script_.pop_front();
  }
  if (request.body_into != nullptr) {
    // As a real client does: the body goes to the caller's string, HttpResponse::body is empty.
    request.body_into->clear();
    if (result.ok()) {
      request.body_into->append(result->body);
      result->body.clear();
    }
  }
  return result;
}

std::vector<HttpRequest> RecordingHttpClient::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t RecordingHttpClient::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

}  // namespace vpcflow
