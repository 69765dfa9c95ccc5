#pragma once
/// Clock: wall time for markers and manifests, monotonic time for durations. Injected so tests
/// are deterministic. Implementations must be thread-safe.

#include <cstdint>
#include <memory>

namespace vpcflow {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Unix time in milliseconds (wall clock, may jump).
  virtual int64_t NowUnixMillis() const = 0;
  /// Monotonic milliseconds since an arbitrary origin (for durations and deadlines).
  virtual int64_t MonotonicMillis() const = 0;
};
using ClockPtr = std::shared_ptr<Clock>;

/// The system clock. Shared, never null.
ClockPtr SystemClock();

}  // namespace vpcflow
