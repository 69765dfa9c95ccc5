#pragma once
/// Router: maps (method, path) to a handler. Patterns are '/'-separated segments, each a
/// literal or a `{name}` that matches one non-empty segment ("/" has no segments). Literal
/// routes win over parameter routes whatever the order they were added in. HEAD finds the GET
/// route of a path that has no HEAD route of its own (the server then sends no body); that
/// handler sees the method "HEAD" and should answer the headers without preparing a body it
/// would be costly to make (a query).
///
/// Thread safety: add routes from one thread before serving; Find and Handle are const and
/// safe from any number of threads.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.hpp"
#include "api/message.hpp"
#include "vpcflow/logger.hpp"

namespace vpcflow {

using ApiHandler = std::function<ApiResponse(const ApiRequest& request)>;
/// Delivers the answer of an asynchronous handler: call it once, from any thread.
using ApiResponder = std::function<void(ApiResponse response)>;
/// A handler that answers through `respond`, at once or later from another thread. It runs on
/// an I/O thread, so it must not block.
using AsyncApiHandler = std::function<void(const ApiRequest& request, ApiResponder respond)>;

/// Where the server runs a handler.
enum class Dispatch {
  kInline,    ///< on the I/O thread: quick handlers that touch no store
  kBlocking,  ///< on a blocking thread (BlockingPool): handlers that wait on a store or a bus
  kAsync,     ///< `async_handler` on the I/O thread; the answer comes later (a job's result)
};

struct Route {
  std::string method{};   ///< "GET", "POST"
  std::string pattern{};  ///< "/", "/status", "/{topic}/{event}"
  std::string name{};     ///< a short label for logs and stats ("get_digest")
  ApiHandler handler{};   ///< for kInline and kBlocking
  Dispatch dispatch = Dispatch::kInline;
  Access access = Access::kApi;     ///< who may call it (auth.hpp)
  AsyncApiHandler async_handler{};  ///< for kAsync
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
  /// An asynchronous route is waited for (for tests and simple servers).
  ApiResponse Call(const Route& route, const ApiRequest& request) const;
  /// Runs a kAsync route's handler. `respond` is called exactly once: by the handler, or with a
  /// 500 when the handler throws or drops its responder without answering.
  void CallAsync(const Route& route, const ApiRequest& request, ApiResponder respond) const;
  /// Find + Call, or NoRouteResponse. For tests and simple servers.
  ApiResponse Handle(ApiRequest request) const;
  /// Every route added, in the order added (for listings: tests/openapi's lint).
  const std::vector<Route>& routes() const { return routes_; }

 private:
  RouteMatch FindFor(std::string_view method, std::string_view path) const;
  void LogThrown(const Route& route, const ApiRequest& request, std::string_view reason) const;

  std::vector<Route> routes_;
  Logger* logger_;
};

}  // namespace vpcflow
