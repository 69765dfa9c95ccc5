#pragma once
/// FakeClock: a Clock that moves only when told. Thread-safe (atomics).

#include <atomic>
#include <cstdint>

#include "vpcflow/clock.hpp"

namespace vpcflow {

class FakeClock final : public Clock {
 public:
  /// Starts at `unix_ms` (default 2019-01-01T00:00:00Z) and monotonic 0.
  explicit FakeClock(int64_t unix_ms = 1546300800000) : unix_ms_(unix_ms) {}

  int64_t NowUnixMillis() const override { return unix_ms_.load(); }
  int64_t MonotonicMillis() const override { return monotonic_ms_.load(); }

  /// Moves both clocks forward by `ms`.
  void AdvanceMillis(int64_t ms) {
    unix_ms_.fetch_add(ms);
    monotonic_ms_.fetch_add(ms);
  }
  /// Sets the wall clock (it may jump back); the monotonic clock does not move.
  void SetUnixMillis(int64_t unix_ms) { unix_ms_.store(unix_ms); }

 private:
  std::atomic<int64_t> unix_ms_;
  std::atomic<int64_t> monotonic_ms_{0};
};

}  // namespace vpcflow
