#pragma once
/// The content of an in-progress marker and the rules that judge it (marker.hpp), shared by
/// every built-in Marker (file, S3, memory) so that who holds a job and when a marker is stale
/// are decided in one place. Pure apart from LivenessOf (it reads /proc); thread-safe.
///
/// Body (JSON, this service): {"heartbeat":"<RFC 3339 ms>","heartbeat_ms":5000,
/// "phase":"queued"|"running","start":"<RFC 3339>","stop":"<RFC 3339>","owner":{"host","boot_id",
/// "pid_namespace","pid","start_ticks","instance"}}. The older service wrote a bare RFC 3339 time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vpcflow/marker.hpp"

namespace vpcflow {

/// 16 random hex digits: a MarkOwner's instance, and any other name that must not collide.
std::string NewInstanceId();

/// A new marker's content: `phase`, held by `owner`, heartbeat at `now_unix_ms`.
MarkInfo NewMark(const Window& window, MarkPhase phase, const MarkOwner& owner, int64_t now_unix_ms,
                 int64_t heartbeat_ms);

/// The JSON body of `mark` (its state and failure are not stored).
std::string EncodeMarkBody(const MarkInfo& mark);

/// A marker body read back: this service's JSON, or the older service's bare RFC 3339 time (then
/// only written_unix_ms is set). The state is kInProgress, not yet judged. nullopt when the body
/// is neither (a JSON body needs a valid "heartbeat"; other bad fields are dropped).
std::optional<MarkInfo> DecodeMarkBody(std::string_view body);

/// Sets `mark->state` to kInProgress or kStale by marker.hpp's rules at `now_unix_ms`. Overflow
/// safe for any `ttl_ms` >= 0 (huge ones included).
void JudgeMark(MarkInfo* mark, int64_t now_unix_ms, int64_t ttl_ms);

/// Whether `owner` holds `mark` (the same instance).
bool HeldBy(const MarkInfo& mark, const MarkOwner& owner);

/// Whether Claim() by `owner` may take the judged `mark`: not a live running marker of another.
bool MayClaim(const MarkInfo& mark, const MarkOwner& owner);

/// `options` checked (InvalidArgument naming `what` when ttl_ms or heartbeat_ms <= 0) and
/// completed: clock and owner filled in, heartbeat_ms clamped to kMaxHeartbeatMs.
Result<MarkerOptions> CompleteMarkerOptions(MarkerOptions options, std::string_view what);

}  // namespace vpcflow
