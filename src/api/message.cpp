#include "api/message.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace vpcflow {

std::optional<std::string_view> ApiRequest::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view ApiRequest::PathParam(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return {};
}

Status ParseTarget(std::string_view target, std::string* path, HeaderList* query) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return InvalidArgumentError("bad request target: " + url.error().message());
  path->assign(url->path());
  query->clear();
  // Times with offsets ("...T10:00:00+02:00") are often sent with a bare '+': keep it a plus.
  boost::urls::encoding_opts opts;
  opts.space_as_plus = false;
  for (const auto& param : url->params(opts)) {
    // Which of two values a handler would take is an accident of its code: refuse both.
    for (const auto& [key, value] : *query) {
      if (key == param.key) {
        return InvalidArgumentError("the query parameter \"" + key + "\" is given twice");
      }
    }
    query->emplace_back(param.key, param.has_value ? param.value : std::string());
  }
  return OkStatus();
}

int HttpStatusFromCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled:
    case StatusCode::kFailedPrecondition:
      return 503;
    case StatusCode::kPermissionDenied:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

ApiResponse JsonResponse(int http_status, std::string json) {
  ApiResponse response;
  response.status = http_status;
  response.body = std::move(json);
  return response;
}

ApiResponse JsonError(int http_status, std::string_view message) {
  return JsonResponse(http_status, "{\"message\":" + JsonQuote(message) + "}");
}

ApiResponse BusyResponse(std::string_view message) {
  ApiResponse response = JsonError(503, message);
  response.headers.emplace_back("Retry-After", std::to_string(kBusyRetryAfterSeconds));
  return response;
}

ApiResponse ErrorResponse(const Status& status) {
  return JsonError(HttpStatusFromCode(status.code()), status.message());
}

}  // namespace vpcflow
