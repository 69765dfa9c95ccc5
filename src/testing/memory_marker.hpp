#pragma once
/// MemoryMarker: a Marker in memory for tests, with the rules of marker.hpp (judged by the
/// options' clock; an owner on this host whose process is gone makes its markers stale). Markers
/// made on one MemoryMarkerStore share it, like two processes on one progress store.
/// Thread-safe (one mutex per store).

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "vpcflow/marker.hpp"

namespace vpcflow {

/// The markers and failure records several MemoryMarkers share.
class MemoryMarkerStore {
 private:
  friend class MemoryMarker;
  struct Entry {
    bool marked = false;
    MarkInfo mark{};
    bool failed = false;
    int64_t failed_ms = 0;
    std::string failure{};
  };
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

class MemoryMarker final : public Marker {
 public:
  /// A marker on a store of its own. `clock` null = SystemClock(); the heartbeat interval is the
  /// TTL (markers go stale after the TTL, as the older service's).
  MemoryMarker(int64_t ttl_ms, ClockPtr clock);
  /// A marker on `store` (null = a store of its own) with `options` (completed as the built-in
  /// markers do: positive TTL and heartbeat expected).
  MemoryMarker(MarkerOptions options, std::shared_ptr<MemoryMarkerStore> store);

  Status Mark(std::string_view id, const Window& window) override;
  Status Claim(std::string_view id, const Window& window) override;
  Status Refresh(std::string_view id) override;
  Status Unmark(std::string_view id) override;
  Status Fail(std::string_view id, std::string_view reason) override;
  Result<MarkInfo> State(std::string_view id) override;
  Result<std::vector<MarkedDigest>> List() override;
  std::string Describe() const override { return "memory"; }

  /// Test inspection: ids with a marker (live or stale).
  size_t marker_count() const;

 private:
  // The judged marker of `entry` (nullopt when unmarked). Needs store_->mu_.
  std::optional<MarkInfo> Judged(const MemoryMarkerStore::Entry& entry) const;

  const MarkerOptions options_;
  const std::shared_ptr<MemoryMarkerStore> store_;
};

}  // namespace vpcflow
