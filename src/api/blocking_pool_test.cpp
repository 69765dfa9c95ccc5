#include "api/blocking_pool.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

namespace vpcflow {
namespace {

TEST(BlockingPoolTest, StartsThreadsOnDemandUpToTheLimit) {
  BlockingPool pool(3);
  EXPECT_EQ(pool.threads(), 0);
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool release = false;
  std::promise<void> fourth_ran;
  for (int i = 0; i < 3; ++i) {
    pool.Run([&] {
      std::unique_lock lock(mu);
      ++entered;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered == 3; }));
  }
  // All three threads are busy: the fourth task waits for one of them.
  pool.Run([&] { fourth_ran.set_value(); });
  EXPECT_EQ(pool.threads(), 3);
  std::future<void> ran = fourth_ran.get_future();
  EXPECT_EQ(ran.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  ran.wait();
}

TEST(BlockingPoolTest, AnIdleThreadEndsAndANewOneStarts) {
  BlockingPool pool(1, /*idle_ms=*/1);
  for (int i = 0; i < 3; ++i) {
    std::promise<void> done;
    pool.Run([&] { done.set_value(); });
    done.get_future().wait();
  }
  EXPECT_LE(pool.threads(), 1);
}

TEST(BlockingPoolTest, TheDestructorRunsWhatIsQueued) {
  int ran = 0;
  {
    BlockingPool pool(1);
    std::promise<void> go;
    std::shared_future<void> started = go.get_future().share();
    pool.Run([started] { started.wait(); });
    for (int i = 0; i < 5; ++i) pool.Run([&ran] { ++ran; });
    go.set_value();
  }
  EXPECT_EQ(ran, 5);
}

TEST(BlockingPoolTest, AThrowingTaskDoesNotStopTheThread) {
  BlockingPool pool(1);
  pool.Run([] { throw std::runtime_error("boom"); });
  std::promise<void> done;
  pool.Run([&] { done.set_value(); });
  done.get_future().wait();
}

}  // namespace
}  // namespace vpcflow
