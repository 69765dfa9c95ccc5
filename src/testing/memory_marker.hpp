#pragma once
/// MemoryMarker: a Marker in memory for tests, with the TTL semantics of marker.hpp judged by an
/// injected clock. Thread-safe (one mutex).

#include <map>
#include <mutex>
#include <string>

#include "vpcflow/marker.hpp"

namespace vpcflow {

class MemoryMarker final : public Marker {
 public:
  /// `clock` null = SystemClock().
  MemoryMarker(int64_t ttl_ms, ClockPtr clock);

  Status Mark(std::string_view id) override;
  Status Refresh(std::string_view id) override;
  Status Unmark(std::string_view id) override;
  Status Fail(std::string_view id, std::string_view reason) override;
  Result<MarkInfo> State(std::string_view id) override;
  std::string Describe() const override { return "memory"; }

  /// Test inspection: ids with a marker (live or stale).
  size_t marker_count() const;

 private:
  struct Entry {
    bool marked = false;
    int64_t marked_ms = 0;
    bool failed = false;
    int64_t failed_ms = 0;
    std::string failure{};
  };

  const int64_t ttl_ms_;
  const ClockPtr clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace vpcflow
