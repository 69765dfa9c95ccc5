#include "api/blocking_pool.hpp"

#include <algorithm>
#include <chrono>

namespace vpcflow {

BlockingPool::BlockingPool(int max_threads, int64_t idle_ms)
    : max_threads_(std::max(max_threads, 1)), idle_ms_(std::max<int64_t>(idle_ms, 1)) {}

BlockingPool::~BlockingPool() {
  std::map<std::thread::id, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    threads.swap(threads_);
  }
  for (auto& [id, thread] : threads) thread.join();
}

void BlockingPool::Run(std::function<void()> task) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(task));
  // An idle thread takes it; otherwise a new one, while below the limit.
  if (idle_ >= static_cast<int>(tasks_.size())) {
    cv_.notify_one();
    return;
  }
  ReapLocked();
  if (static_cast<int>(threads_.size()) < max_threads_) {
    std::thread thread([this] { Loop(); });
    threads_.emplace(thread.get_id(), std::move(thread));
  }
}

int BlockingPool::threads() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(threads_.size() - ended_.size());
}

void BlockingPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    const bool woken = cv_.wait_for(lock, std::chrono::milliseconds(idle_ms_),
                                    [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) {
      if (stopping_ || !woken) break;
      continue;
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task owns its error reporting; a throw must not end the thread with work queued.
    }
    task = nullptr;  // what it captured goes now, not at the next task
    lock.lock();
  }
  if (!stopping_) ended_.push_back(std::this_thread::get_id());
}

void BlockingPool::ReapLocked() {
  for (std::thread::id id : ended_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    it->second.join();  // it has left Loop: only its return is left
    threads_.erase(it);
  }
  ended_.clear();
}

}  // namespace vpcflow
