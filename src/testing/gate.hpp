#pragma once
/// Gate: a door a test opens once. Threads that Enter() wait until Open() (or until their stop
/// token is requested); the gate counts who entered, who is inside now and the most inside at
/// once, so a test can wait for "n are stuck here" without sleeping and check a concurrency
/// bound. Thread-safe.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace vpcflow {

class Gate {
 public:
  /// Waits until the gate is open (returns at once when it is). False when `stop` was
  /// requested before it opened.
  bool Enter(std::stop_token stop = {}) {
    std::unique_lock lock(mu_);
    ++entered_;
    ++inside_;
    max_inside_ = std::max(max_inside_, inside_);
    cv_.notify_all();
    const bool opened = cv_.wait(lock, stop, [this] { return open_; });
    --inside_;
    return opened;
  }
  /// Waits at most 10 s until `n` threads are inside at once; false when they are not.
  bool WaitInside(int n) {
    return WaitFor([&] { return inside_ >= n; });
  }
  /// Waits at most 10 s until `n` threads entered in all; false when they did not.
  bool WaitEntered(int n) {
    return WaitFor([&] { return entered_ >= n; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }
  int max_inside() const {
    std::lock_guard lock(mu_);
    return max_inside_;
  }

 private:
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), pred);
  }

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  int entered_ = 0;
  int inside_ = 0;
  int max_inside_ = 0;
  bool open_ = false;
};

}  // namespace vpcflow
