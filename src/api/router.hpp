#pragma once
/// Router: maps (method, path) to a handler. Patterns are '/'-separated segments, each a
/// literal or a `{name}` that matches one non-empty segment ("/" has no segments). Literal
/// routes win over parameter routes whatever the order they were added in.
///
/// Thread safety: add routes from one thread before serving; Find and Handle are const and
/// safe from any number of threads.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/message.hpp"
#include "vpcflow/logger.hpp"

namespace vpcflow {

using ApiHandler = std::function<ApiResponse(const ApiRequest& request)>;

/// Where the server runs a handler.
enum class Dispatch {
  kInline,    ///< on the I/O thread: quick handlers (local reads)
  kBlocking,  ///< on a thread of its own: handlers that may wait long (queueing, running jobs)
};

struct Route {
  std::string method;   ///< "GET", "POST"
  std::string pattern;  ///< "/", "/status", "/{topic}/{event}"
  std::string name;     ///< a short label for logs and stats ("get_digest")
  ApiHandler handler;
  Dispatch dispatch = Dispatch::kInline;
};

/// The result of a lookup.
struct RouteMatch {
  const Route* route = nullptr;  ///< null when nothing matched
  int status = 404;              ///< 404 no such path, 405 path known but not for this method
  std::string allow;             ///< for 405: the methods the path accepts, "GET, POST"
  HeaderList path_params;        ///< values of the `{name}` segments
};

/// The JSON 404 or 405 (with Allow) answer for a lookup that found no route.
ApiResponse NoRouteResponse(const RouteMatch& match);

class Router {
 public:
  /// `logger` (not owned, may be null) receives unknown-failure events from Handle.
  explicit Router(Logger* logger = nullptr) : logger_(logger) {}

  void Add(Route route);
  /// Finds the route for `method` and the decoded `path`.
  RouteMatch Find(std::string_view method, std::string_view path) const;
  /// Runs `route`'s handler on `request` (path_params already set). The last-resort guard:
  /// an exception escaping the handler is logged (unknown-failure) and answered with a 500.
  ApiResponse Call(const Route& route, const ApiRequest& request) const;
  /// Find + Call, or NoRouteResponse. For tests and simple servers.
  ApiResponse Handle(ApiRequest request) const;

 private:
  std::vector<Route> routes_;
  Logger* logger_;
};

}  // namespace vpcflow
