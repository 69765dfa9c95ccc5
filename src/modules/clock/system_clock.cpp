#include <chrono>

#include "vpcflow/clock.hpp"

namespace vpcflow {
namespace {

class SystemClockImpl final : public Clock {
 public:
  int64_t NowUnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

ClockPtr SystemClock() {
  static const ClockPtr clock = std::make_shared<SystemClockImpl>();
  return clock;
}

}  // namespace vpcflow
