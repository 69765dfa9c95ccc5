#pragma once
/// Marker: the in-progress (and failed) state of digests (DESIGN.md, "Storage keys").
///
/// An in-progress marker `<id>_in_progress` holds the RFC 3339 UTC time it was (re)written. It
/// is live for `ttl_ms` after that time, then stale: a stale marker no longer blocks Mark(). A
/// failure record `<id>_failed` holds a short JSON reason; it never blocks Mark(), which removes
/// it. Implementations must be thread-safe and Mark() atomic across processes sharing the store:
/// of any number of concurrent Mark(id) calls on an absent or stale marker exactly one returns
/// OK. Ids must pass ValidateDigestId (storage.hpp); others get InvalidArgument.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vpcflow/clock.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

enum class MarkState {
  kAbsent,      ///< no marker, no failure record
  kInProgress,  ///< a live marker
  kStale,       ///< a marker older than the TTL (a crashed worker)
  kFailed,      ///< no live marker, and the last attempt failed
};
std::string_view MarkStateName(MarkState state);  // "absent", "in_progress", "stale", "failed"

struct MarkInfo {
  MarkState state = MarkState::kAbsent;
  int64_t written_unix_ms = 0;  ///< marker or failure time (0 when absent)
  std::string failure{};        ///< the failure record's text when kFailed
};

class Marker {
 public:
  virtual ~Marker() = default;
  Marker() = default;
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;

  /// Creates the marker atomically. Returns AlreadyExists when a live marker exists. A stale
  /// marker is replaced; a failure record is removed.
  [[nodiscard]] virtual Status Mark(std::string_view id) = 0;
  /// Rewrites the marker's time (the worker calls this while it works). Returns NotFound when
  /// there is no marker.
  [[nodiscard]] virtual Status Refresh(std::string_view id) = 0;
  /// Removes the marker. OK when there was none.
  [[nodiscard]] virtual Status Unmark(std::string_view id) = 0;
  /// Replaces the marker by a failure record with `reason` (stored as given).
  [[nodiscard]] virtual Status Fail(std::string_view id, std::string_view reason) = 0;
  /// The current state.
  [[nodiscard]] virtual Result<MarkInfo> State(std::string_view id) = 0;
  /// Checks the store is reachable and writable (for /readyz). Default: OK.
  [[nodiscard]] virtual Status Ready() { return OkStatus(); }
  virtual std::string Describe() const = 0;
};
using MarkerPtr = std::unique_ptr<Marker>;

/// The embedded default: files `<dir>/<id>_in_progress` and `<dir>/<id>_failed`. A marker is
/// written to a hidden temporary file and link()ed into place (atomic exclusive create, never a
/// half-written marker); a stale one is replaced by rename(). Every change holds flock() on
/// `<dir>/.lock`, so the check "stale?" and the replacement are one step even across processes,
/// and the kernel releases the lock of a process that dies (a lock file created with O_EXCL
/// would itself go stale). The marker's time is its body (RFC 3339 UTC, ms); an unparsable body
/// falls back to the file's mtime. Times come from `clock` (null = SystemClock()). Creates `dir`
/// if missing. Returns InvalidArgument when `ttl_ms` <= 0. Needs a file system with working
/// flock() (local disks; NFS v4).
Result<MarkerPtr> NewFileMarker(std::string dir, int64_t ttl_ms, ClockPtr clock);

/// Forwards every call to `target` (not owned).
class MarkerWrapper : public Marker {
 public:
  explicit MarkerWrapper(Marker* target) : target_(target) {}
  Status Mark(std::string_view id) override { return target_->Mark(id); }
  Status Refresh(std::string_view id) override { return target_->Refresh(id); }
  Status Unmark(std::string_view id) override { return target_->Unmark(id); }
  Status Fail(std::string_view id, std::string_view reason) override {
    return target_->Fail(id, reason);
  }
  Result<MarkInfo> State(std::string_view id) override { return target_->State(id); }
  Status Ready() override { return target_->Ready(); }
  std::string Describe() const override { return target_->Describe(); }
  Marker* target() const { return target_; }

 private:
  Marker* target_;
};

}  // namespace vpcflow
