#pragma once
/// Late data (DESIGN.md, "Late data"): flow logs reach S3 up to about 15 minutes after a
/// record's end, so a digest planned less than DIGEST_SETTLE after its window's stop may miss
/// records. It is computed anyway, marked provisional in its manifest, /status and GET's
/// `X-Digest-Provisional: true`, and a POST once the window has settled replaces it; a final
/// digest is never replaced. Pure apart from the one Storage read; thread-safe.

#include <cstdint>
#include <string_view>

#include "vpcflow/status.hpp"
#include "vpcflow/storage.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

/// Whether `window` may be digested now (`now_unix_s`): OK unless it starts in the future
/// (InvalidArgument "the window starts in the future: ..."). A window that ends less than the
/// settle time ago (or after now) may be digested: the digest is provisional.
Status CheckWindowStarted(const Window& window, int64_t now_unix_s);

/// When a digest of `window` becomes final: its stop + `settle_seconds` (negative = 0). A digest
/// planned before this time is provisional, and may be replaced by a new POST from this time.
int64_t WindowSettledAt(const Window& window, int64_t settle_seconds);

/// Whether a manifest says its digest is provisional ("provisional": true). False for any
/// other text (a manifest of an older service: final).
bool ManifestIsProvisional(std::string_view manifest_json);

/// Whether a digest of `window` planned at `now_unix_s` is provisional: now < WindowSettledAt.
bool IsProvisionalAt(const Window& window, int64_t now_unix_s, int64_t settle_seconds);

/// What is stored for a window, to a new POST or job.
enum class DigestStanding {
  kAbsent,       ///< nothing stored
  kFinal,        ///< stored, final: never replaced (409)
  kProvisional,  ///< stored, provisional, the window not settled yet: kept (409)
  kReplaceable,  ///< stored, provisional, and the window has settled since: a POST replaces it
};

/// The standing of digest `id` (of `window`) at `now_unix_s`. Reads the manifest only when the
/// digest is stored; an unreadable manifest counts as final. Errors: the storage's.
Result<DigestStanding> StandingOf(Storage& storage, std::string_view id, const Window& window,
                                  int64_t now_unix_s, int64_t settle_seconds);

}  // namespace vpcflow
