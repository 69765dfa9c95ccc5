#pragma once
/// The HTTP request and response as the router and handlers see them: plain values, no Beast.
/// The server (server.cpp) converts from and to the wire. The one status-to-HTTP mapping of
/// the project lives here (HttpStatusFromCode).
///
/// Thread safety: values; a request or response is used by one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_string.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// One parsed request.
struct ApiRequest {
  std::string method;      ///< "GET", "POST", ... as sent
  std::string target;      ///< the raw request target, "/status?start=..."
  std::string path;        ///< the percent-decoded path, "/status"
  HeaderList query;        ///< decoded query parameters in order ('+' stays '+')
  HeaderList path_params;  ///< filled by the router: {"topic", "digests"}
  std::string content_type;
  std::string accept;  ///< the Accept header ("" when absent)
  std::string body;

  /// The first query parameter named `name`, or nullopt when absent.
  std::optional<std::string_view> Query(std::string_view name) const;
  /// The path parameter `name` ("" when the route has none of that name).
  std::string_view PathParam(std::string_view name) const;
};

/// One response. When `stream` is set the body is read from it in chunks while it is written
/// (then `body` is ignored): with Content-Length `stream_size` when known (>= 0), else chunked.
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  ObjectReaderPtr stream;
  int64_t stream_size = -1;
  /// An answer to HEAD whose GET streams its body: the header says so (Content-Length
  /// `stream_size` when known, else chunked) though there is no `stream` to read.
  bool head_of_stream = false;
  HeaderList headers;  ///< extra headers
};

/// Splits a request target into its decoded path and query parameters. Returns
/// InvalidArgument when the target is not an origin-form URI ("/path?query") or names a query
/// parameter twice ("?start=a&start=b").
Status ParseTarget(std::string_view target, std::string* path, HeaderList* query);

/// The HTTP status for a non-OK code: InvalidArgument 400, NotFound 404, AlreadyExists 409,
/// Unimplemented 501; the codes of a dependency that may recover (Unavailable,
/// DeadlineExceeded, ResourceExhausted, Cancelled, FailedPrecondition) 503; everything else
/// (PermissionDenied, DataLoss, Internal) 500. OK is 200.
int HttpStatusFromCode(StatusCode code);

/// `{"message": message}` with `http_status`.
ApiResponse JsonError(int http_status, std::string_view message);
/// Retry-After (seconds) of a 503 that says "too busy now, come back later".
inline constexpr int kBusyRetryAfterSeconds = 5;
/// JsonError(503, message) with `Retry-After: kBusyRetryAfterSeconds`.
ApiResponse BusyResponse(std::string_view message);
/// JsonError(HttpStatusFromCode(status.code()), status.message()).
ApiResponse ErrorResponse(const Status& status);
/// A JSON body (already serialised) with `http_status`.
ApiResponse JsonResponse(int http_status, std::string json);

}  // namespace vpcflow
