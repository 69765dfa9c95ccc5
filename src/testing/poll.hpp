#pragma once
/// PollUntil: waits for a condition another process makes true (a server, a file, a queue) by
/// asking again every few milliseconds until a deadline. For conditions of this process, wait
/// on a condition variable (gate.hpp) instead.

#include <chrono>
#include <cstdint>
#include <thread>

namespace vpcflow {

/// True as soon as `pred()` is; false when it still is not after `timeout_ms`.
template <typename Pred>
bool PollUntil(Pred pred, int64_t timeout_ms = 10000, int64_t interval_ms = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return true;
}

}  // namespace vpcflow
