#include "api/web_ui.hpp"

#include <string>

namespace vpcflow {
namespace {

ApiResponse ServeAsset(std::string_view name) {
  std::optional<WebAsset> asset = FindWebAsset(name);
  if (!asset) return JsonError(404, "no such file of the web view: " + std::string(name));
  ApiResponse response;
  response.content_type = asset->content_type;
  response.body = std::string(asset->bytes);
  // The page's own code only: nothing from elsewhere, no framing by other sites.
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data: blob:; frame-ancestors 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

}  // namespace

ApiResponse RedirectToWebUi() {
  ApiResponse response;
  response.status = 302;
  response.content_type.clear();
  response.headers.emplace_back("Location", "/ui/");
  return response;
}

bool AcceptsHtml(std::string_view accept) {
  return accept.find("text/html") != std::string_view::npos;
}

void AddWebUiRoutes(Router& router) {
  router.Add({.method = "GET",
              .pattern = "/ui",
              .name = "ui",
              .handler = [](const ApiRequest&) { return RedirectToWebUi(); },
              .access = Access::kOpen});
  router.Add({.method = "GET",
              .pattern = "/ui/",
              .name = "ui",
              .handler = [](const ApiRequest&) { return ServeAsset("index.html"); },
              .access = Access::kOpen});
  router.Add({.method = "GET",
              .pattern = "/ui/{file}",
              .name = "ui",
              .handler = [](const ApiRequest& r) { return ServeAsset(r.PathParam("file")); },
              .access = Access::kOpen});
}

}  // namespace vpcflow
