#pragma once
/// BlockingPool: threads for the server's work that may block (a handler waiting on a store or
/// a bus, a read of a stored digest), so the I/O threads never do. Threads start on demand, up
/// to `max_threads`; one idle for `idle_ms` ends. Tasks beyond `max_threads` wait their turn
/// (first in, first out).
///
/// Thread safety: Run may be called from any thread, also from a task. The destructor runs
/// the tasks still waiting, then joins every thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace vpcflow {

class BlockingPool {
 public:
  explicit BlockingPool(int max_threads, int64_t idle_ms = 10000);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  /// Runs `task` on a pool thread. An exception escaping it is swallowed.
  void Run(std::function<void()> task);
  /// Threads alive now.
  int threads() const;

 private:
  void Loop();
  void ReapLocked();

  const int max_threads_;
  const int64_t idle_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> ended_;  // returned from Loop, not joined yet
  int idle_ = 0;
  bool stopping_ = false;
};

}  // namespace vpcflow
