#pragma once
/// The web view (DESIGN.md, "Web view"): a single-page application over the HTTP API, built
/// from web/ by esbuild at build time and embedded in the binary (cmake/embed_web.cmake), so
/// nothing is fetched at run time and the page always matches the service.
///
/// Routes (open: the page holds no data and asks for a token when the API needs one):
/// `GET /ui` redirects to `/ui/`; `GET /ui/` is index.html; `GET /ui/{file}` an asset.
/// Thread-safe (constant data).

#include <optional>
#include <string_view>

#include "api/router.hpp"

namespace vpcflow {

/// One embedded file.
struct WebAsset {
  std::string_view name;          ///< "index.html", "app.js"
  std::string_view content_type;  ///< "text/html; charset=utf-8"
  std::string_view bytes;
};

/// The embedded file `name`, or nullopt.
std::optional<WebAsset> FindWebAsset(std::string_view name);

/// Registers the routes above.
void AddWebUiRoutes(Router& router);

/// 302 to `/ui/`.
ApiResponse RedirectToWebUi();

/// Whether `accept` (an Accept header) prefers HTML: a browser opening the page.
bool AcceptsHtml(std::string_view accept);

}  // namespace vpcflow
