#include "api/provisional.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace vpcflow {

Status CheckWindowStarted(const Window& window, int64_t now_unix_s) {
  if (window.start > now_unix_s) {
    return InvalidArgumentError("the window starts in the future: " + FormatRfc3339(window.start) +
                                " is after now (" + FormatRfc3339(now_unix_s) + ")");
  }
  return OkStatus();
}

int64_t WindowSettledAt(const Window& window, int64_t settle_seconds) {
  // Both are bounded (years 1970-9999, settle at most ten years): no overflow.
  return window.stop + std::max<int64_t>(settle_seconds, 0);
}

bool ManifestIsProvisional(std::string_view manifest_json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(manifest_json, ec);
  if (ec || !v.is_object()) return false;
  const boost::json::value* p = v.as_object().if_contains("provisional");
  return p != nullptr && p->is_bool() && p->as_bool();
}

bool IsProvisionalAt(const Window& window, int64_t now_unix_s, int64_t settle_seconds) {
  return now_unix_s < WindowSettledAt(window, settle_seconds);
}

Result<DigestStanding> StandingOf(Storage& storage, std::string_view id, const Window& window,
                                  int64_t now_unix_s, int64_t settle_seconds) {
  VPCFLOW_ASSIGN_OR_RETURN(bool exists, storage.Exists(id));
  if (!exists) return DigestStanding::kAbsent;
  Result<std::string> manifest = storage.GetManifest(id);
  if (!manifest.ok()) {
    // Replaced or removed meanwhile: judge by what is there now.
    if (IsNotFound(manifest.status())) return DigestStanding::kAbsent;
    return manifest.status();
  }
  if (!ManifestIsProvisional(*manifest)) return DigestStanding::kFinal;
  return IsProvisionalAt(window, now_unix_s, settle_seconds) ? DigestStanding::kProvisional
                                                             : DigestStanding::kReplaceable;
}

}  // namespace vpcflow
