#include "common/run_on_threads.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "testing/no_new_threads.hpp"

namespace vpcflow {
namespace {

// Which indexes fn saw, how often, and on which threads.
struct Calls {
  std::mutex mu;
  std::vector<int> count;
  std::set<std::thread::id> threads;
  explicit Calls(size_t n) : count(n, 0) {}
  void Note(size_t i) {
    std::lock_guard lock(mu);
    ++count.at(i);
    threads.insert(std::this_thread::get_id());
  }
};

TEST(RunOnThreadsTest, CallsEachIndexOnceFirstOnTheCaller) {
  for (size_t n : {0, 1, 2, 5}) {
    Calls calls(n == 0 ? 1 : n);
    std::atomic<bool> caller_ran_zero{false};
    const std::thread::id caller = std::this_thread::get_id();
    RunOnThreads(n, [&](size_t i) {
      if (i == 0) caller_ran_zero = std::this_thread::get_id() == caller;
      calls.Note(i);
    });
    EXPECT_TRUE(caller_ran_zero) << n;
    EXPECT_EQ(calls.count, std::vector<int>(n == 0 ? 1 : n, 1)) << n;
  }
}

TEST(RunOnThreadsTest, WithoutHelpersTheCallerMakesEveryCall) {
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  Calls calls(4);
  RunOnThreads(4, [&](size_t i) { calls.Note(i); });
  EXPECT_EQ(calls.count, std::vector<int>(4, 1));
  EXPECT_EQ(calls.threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

}  // namespace
}  // namespace vpcflow
