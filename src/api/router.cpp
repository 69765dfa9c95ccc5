#include "api/router.hpp"

#include <algorithm>
#include <exception>
#include <future>
#include <memory>
#include <mutex>

namespace vpcflow {
namespace {

// Splits "/a/b" into {"a", "b"}; "/" and "" give no segments. A trailing '/' adds an empty
// segment so "/status/" does not match "/status".
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path == "/") return out;
  if (path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches `path` segments against `pattern`; fills `params`. Returns the number of literal
// segments matched (the more, the more specific), or -1 when it does not match.
int MatchPattern(std::string_view pattern, const std::vector<std::string_view>& path,
                 HeaderList* params) {
  std::vector<std::string_view> pat = Segments(pattern);
  if (pat.size() != path.size()) return -1;
  int literals = 0;
  params->clear();
  for (size_t i = 0; i < pat.size(); ++i) {
    if (IsParam(pat[i])) {
      if (path[i].empty()) return -1;
      params->emplace_back(pat[i].substr(1, pat[i].size() - 2), path[i]);
    } else if (pat[i] == path[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

ApiResponse NoRouteResponse(const RouteMatch& match) {
  if (match.status != 405) return JsonError(404, "no such resource");
  ApiResponse response = JsonError(405, "method not allowed");
  response.headers.emplace_back("Allow", match.allow);
  return response;
}

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

RouteMatch Router::Find(std::string_view method, std::string_view path) const {
  RouteMatch match = FindFor(method, path);
  if (match.route == nullptr && method == "HEAD") {
    RouteMatch get = FindFor("GET", path);
    if (get.route != nullptr) return get;
  }
  return match;
}

RouteMatch Router::FindFor(std::string_view method, std::string_view path) const {
  RouteMatch match;
  const std::vector<std::string_view> segments = Segments(path);
  int best = -1;
  int best_any_method = -1;
  HeaderList params;
  for (const Route& route : routes_) {
    int score = MatchPattern(route.pattern, segments, &params);
    if (score < 0) continue;
    if (route.method != method) {
      best_any_method = std::max(best_any_method, score);
      continue;
    }
    if (score > best) {
      best = score;
      match.route = &route;
      match.path_params = params;
    }
  }
  if (match.route != nullptr) {
    match.status = 200;
    return match;
  }
  if (best_any_method >= 0) {
    match.status = 405;
    auto allow = [&match](std::string_view m) {
      if (match.allow.find(m) != std::string::npos) return;
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += m;
    };
    for (const Route& route : routes_) {
      if (MatchPattern(route.pattern, segments, &params) < 0) continue;
      allow(route.method);
      if (route.method == "GET") allow("HEAD");
    }
  }
  return match;
}

void Router::LogThrown(const Route& route, const ApiRequest& request,
                       std::string_view reason) const {
  if (logger_ == nullptr) return;
  logger_->Log(LogLevel::kError, "unknown-failure",
               {{"route", route.name}, {"path", request.path}, {"reason", reason}});
}

ApiResponse Router::Call(const Route& route, const ApiRequest& request) const {
  if (route.dispatch == Dispatch::kAsync) {
    std::promise<ApiResponse> answer;
    std::future<ApiResponse> answered = answer.get_future();
    CallAsync(route, request, [&answer](ApiResponse r) { answer.set_value(std::move(r)); });
    return answered.get();
  }
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    LogThrown(route, request, e.what());
  } catch (...) {
    LogThrown(route, request, "unknown exception");
  }
  return JsonError(500, "internal error");
}

namespace {

// The responder an asynchronous handler gets: every copy shares it; the first call answers,
// later ones are ignored, and when the last copy goes unanswered it answers 500.
class OnceResponder {
 public:
  explicit OnceResponder(ApiResponder respond) : respond_(std::move(respond)) {}
  ~OnceResponder() {
    if (respond_) respond_(JsonError(500, "internal error: the request was not answered"));
  }
  void Give(ApiResponse response) {
    ApiResponder respond;
    {
      std::lock_guard lock(mu_);
      respond.swap(respond_);
    }
    if (respond) respond(std::move(response));
  }

 private:
  std::mutex mu_;
  ApiResponder respond_;
};

}  // namespace

void Router::CallAsync(const Route& route, const ApiRequest& request, ApiResponder respond) const {
  auto once = std::make_shared<OnceResponder>(std::move(respond));
  try {
    route.async_handler(request, [once](ApiResponse r) { once->Give(std::move(r)); });
    return;
  } catch (const std::exception& e) {
    LogThrown(route, request, e.what());
  } catch (...) {
    LogThrown(route, request, "unknown exception");
  }
  once->Give(JsonError(500, "internal error"));
}

ApiResponse Router::Handle(ApiRequest request) const {
  RouteMatch match = Find(request.method, request.path);
  if (match.route == nullptr) return NoRouteResponse(match);
  request.path_params = std::move(match.path_params);
  return Call(*match.route, request);
}

}  // namespace vpcflow
