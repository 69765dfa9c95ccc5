#pragma once
/// Marker: the in-progress (and failed) state of digests (DESIGN.md, "Storage keys" and
/// "Markers and crash recovery").
///
/// An in-progress marker `<id>_in_progress` names the job's window, its holder (a MarkOwner: the
/// host, process and instance that queued or runs the job), its phase (queued or running) and
/// the time of its last heartbeat: the holder rewrites it every `heartbeat_ms` (Refresh). It is
/// live until it goes stale, then it no longer blocks Mark() and anyone may take the job over:
///  - at once when its holder is known to be gone: a process of this host (same name, boot and
///    pid namespace) that no longer runs with its pid and start time;
///  - after min(ttl_ms, kStaleHeartbeats x heartbeat_ms) without a heartbeat otherwise (a holder
///    on another host that died or hangs);
///  - after ttl_ms for markers of the older service (a bare RFC 3339 time: no window, no owner),
///    which are still read.
/// A failure record `<id>_failed` holds a short JSON reason; it never blocks Mark(), which
/// removes it. Implementations must be thread-safe and Mark()/Claim() atomic across processes
/// sharing the store: of any number of concurrent calls on an absent or stale marker exactly one
/// returns OK. Ids must pass ValidateDigestId (storage.hpp); others get InvalidArgument.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/clock.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

enum class MarkState {
  kAbsent,      ///< no marker, no failure record
  kInProgress,  ///< a live marker
  kStale,       ///< a marker whose holder is gone or silent (a crashed worker)
  kFailed,      ///< no live marker, and the last attempt failed
};
std::string_view MarkStateName(MarkState state);  // "absent", "in_progress", "stale", "failed"

enum class MarkPhase {
  kQueued,   ///< accepted, waiting for a worker
  kRunning,  ///< a worker is digesting it
};
std::string_view MarkPhaseName(MarkPhase phase);  // "queued", "running"

/// Who holds a marker: one running service (one process; `instance` tells apart two services
/// in one process).
struct MarkOwner {
  std::string host{};           ///< host name
  std::string boot_id{};        ///< the host's boot id ("" = unknown)
  std::string pid_namespace{};  ///< the process's pid namespace ("" = unknown)
  int64_t pid = 0;
  int64_t start_ticks = 0;  ///< the process's start time, clock ticks after boot (0 = unknown)
  std::string instance{};   ///< random, unique per holder
  friend bool operator==(const MarkOwner&, const MarkOwner&) = default;
};

/// This process as a marker owner, with a random instance made at the first call.
const MarkOwner& ThisMarkOwner();

/// A marker whose holder is not known to be gone is stale after this many heartbeat intervals
/// without a heartbeat (bounded by the TTL).
inline constexpr int kStaleHeartbeats = 4;
/// Heartbeat intervals read from markers are clamped to this (a garbled marker cannot live
/// for years).
inline constexpr int64_t kMaxHeartbeatMs = int64_t{24} * 3600 * 1000;

struct MarkInfo {
  MarkState state = MarkState::kAbsent;
  int64_t written_unix_ms = 0;  ///< last heartbeat, or failure time (0 when absent)
  std::string failure{};        ///< the failure record's text when kFailed
  /// Of a marker (kInProgress, kStale) written by this service; absent in markers of the older
  /// service.
  std::optional<Window> window{};
  std::optional<MarkOwner> owner{};
  MarkPhase phase = MarkPhase::kQueued;
  int64_t heartbeat_ms = 0;  ///< the holder's heartbeat interval; 0 = unknown (older service)
};

/// An in-progress marker as listed.
struct MarkedDigest {
  std::string id{};
  MarkInfo info{};
};

/// What every built-in marker is made with.
struct MarkerOptions {
  int64_t ttl_ms = 600000;      ///< DIGEST_PROGRESS_TIMEOUT: the longest a marker lives unrefreshed
  int64_t heartbeat_ms = 5000;  ///< how often holders refresh (written into each marker)
  ClockPtr clock{};             ///< judges heartbeat ages; null = SystemClock()
  std::optional<MarkOwner> owner{};  ///< the holder this marker writes as; null = ThisMarkOwner()
};

class Marker {
 public:
  virtual ~Marker() = default;
  Marker() = default;
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;

  /// Creates a queued marker for the job (`id`, its `window`), held by this marker's owner,
  /// atomically. Returns AlreadyExists when a live marker exists. A stale marker is replaced; a
  /// failure record is removed.
  [[nodiscard]] virtual Status Mark(std::string_view id, const Window& window) = 0;
  /// Takes the marker for a worker that starts the job: afterwards it is running, held by this
  /// owner, with a fresh heartbeat; a failure record is removed. Atomic like Mark(). Succeeds
  /// when there is no marker, or it is stale, or queued (by anyone: a bus delivers jobs another
  /// instance queued), or held by this owner. Returns AlreadyExists when another owner's live
  /// marker says running.
  [[nodiscard]] virtual Status Claim(std::string_view id, const Window& window) = 0;
  /// The heartbeat: rewrites the time of a marker this owner holds (keeping window and phase).
  /// Returns NotFound when there is no marker, FailedPrecondition when another owner (or the
  /// older service) holds it: the job was taken over, stop refreshing it.
  [[nodiscard]] virtual Status Refresh(std::string_view id) = 0;
  /// Removes the marker. OK when there was none.
  [[nodiscard]] virtual Status Unmark(std::string_view id) = 0;
  /// Replaces the marker by a failure record with `reason` (stored as given).
  [[nodiscard]] virtual Status Fail(std::string_view id, std::string_view reason) = 0;
  /// The current state.
  [[nodiscard]] virtual Result<MarkInfo> State(std::string_view id) = 0;
  /// Optional: every in-progress marker (live and stale; not the failure records) with its
  /// state, for crash recovery. Default: Unimplemented.
  [[nodiscard]] virtual Result<std::vector<MarkedDigest>> List() {
    return UnimplementedError("this marker cannot list its markers");
  }
  /// Checks the store is reachable and writable (for /readyz). Default: OK.
  [[nodiscard]] virtual Status Ready() { return OkStatus(); }
  virtual std::string Describe() const = 0;
};
using MarkerPtr = std::unique_ptr<Marker>;

/// The embedded default: files `<dir>/<id>_in_progress` (JSON) and `<dir>/<id>_failed`. A
/// marker is written to a hidden temporary file and link()ed into place (atomic exclusive
/// create, never a half-written marker); a stale one is replaced by rename(). Every change holds
/// flock() on `<dir>/.lock`, so the check "stale?" and the replacement are one step even across
/// processes, and the kernel releases the lock of a process that dies (a lock file created with
/// O_EXCL would itself go stale). A marker of the older service (a bare RFC 3339 time) is read;
/// an unparsable body falls back to the file's mtime. Temporaries of writers that are gone are
/// removed at creation and whenever a job ends (Unmark, Fail). Creates `dir` if missing. Returns
/// InvalidArgument when `ttl_ms` or `heartbeat_ms` <= 0. Needs a file system with working
/// flock() (local disks; NFS v4).
Result<MarkerPtr> NewFileMarker(std::string dir, MarkerOptions options);

/// Forwards every call to `target` (not owned).
class MarkerWrapper : public Marker {
 public:
  explicit MarkerWrapper(Marker* target) : target_(target) {}
  Status Mark(std::string_view id, const Window& window) override {
    return target_->Mark(id, window);
  }
  Status Claim(std::string_view id, const Window& window) override {
    return target_->Claim(id, window);
  }
  Status Refresh(std::string_view id) override { return target_->Refresh(id); }
  Status Unmark(std::string_view id) override { return target_->Unmark(id); }
  Status Fail(std::string_view id, std::string_view reason) override {
    return target_->Fail(id, reason);
  }
  Result<MarkInfo> State(std::string_view id) override { return target_->State(id); }
  Result<std::vector<MarkedDigest>> List() override { return target_->List(); }
  Status Ready() override { return target_->Ready(); }
  std::string Describe() const override { return target_->Describe(); }
  Marker* target() const { return target_; }

 private:
  Marker* target_;
};

}  // namespace vpcflow
