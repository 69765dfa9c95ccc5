#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "testing/fake_clock.hpp"
#include "vpcflow/clock.hpp"

namespace vpcflow {
namespace {

TEST(SystemClockTest, IsSharedAndNearTheSystemTime) {
  ClockPtr clock = SystemClock();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock.get(), SystemClock().get());
  int64_t system_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_LE(std::abs(clock->NowUnixMillis() - system_ms), 5000);
}

TEST(SystemClockTest, MonotonicNeverGoesBack) {
  ClockPtr clock = SystemClock();
  int64_t previous = clock->MonotonicMillis();
  for (int i = 0; i < 1000; ++i) {
    int64_t now = clock->MonotonicMillis();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

TEST(FakeClockTest, AdvancesBothClocksAndSetsWallTimeAlone) {
  FakeClock clock(1000);
  EXPECT_EQ(clock.NowUnixMillis(), 1000);
  int64_t mono = clock.MonotonicMillis();
  clock.AdvanceMillis(250);
  EXPECT_EQ(clock.NowUnixMillis(), 1250);
  EXPECT_EQ(clock.MonotonicMillis(), mono + 250);
  clock.SetUnixMillis(10);
  EXPECT_EQ(clock.NowUnixMillis(), 10);
  EXPECT_EQ(clock.MonotonicMillis(), mono + 250);
}

TEST(FakeClockTest, IsSafeFromManyThreads) {
  FakeClock clock(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.AdvanceMillis(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.NowUnixMillis(), 4000);
}

}  // namespace
}  // namespace vpcflow
