#pragma once
/// The Queuer conformance suite. Any implementation, a user's too, runs it with one line in ONE
/// test file of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(InProcess, QueuerConformanceTest,
///       ::testing::Values(QueuerFactory([](JobHandler handler) {
///         QueuerPtr queuer = NewInProcessQueuer(2);
///         queuer->SetHandler(std::move(handler));
///         return queuer; })));
///
/// The factory returns a queuer that delivers its jobs to `handler` (directly, or through
/// whatever carries them: a bus, a broker), or keeps them until Shutdown hands them back.
/// The suite checks that every accepted job is delivered or handed back exactly once, intact.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "testing/matchers.hpp"
#include "vpcflow/queuer.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

struct QueuerFactory {
  template <typename F>
  QueuerFactory(F f) : make(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  std::function<QueuerPtr(JobHandler handler)> make;
  friend void PrintTo(const QueuerFactory&, std::ostream* os) { *os << "QueuerFactory"; }
};

class QueuerConformanceTest : public ::testing::TestWithParam<QueuerFactory> {
 protected:
  void SetUp() override {
    queuer_ = GetParam().make([this](const Job& job, std::stop_token) {
      std::lock_guard lock(mu_);
      handled_.push_back(job);
      return OkStatus();
    });
    ASSERT_NE(queuer_, nullptr);
  }

  void TearDown() override {
    if (queuer_ != nullptr) queuer_->Shutdown(0);
  }

  /// A valid job: the hour starting `n` hours after 2019-01-01T00:00Z.
  static Job TestJob(int n) {
    Window window{.start = 1546300800 + int64_t{n} * 3600,
                  .stop = 1546300800 + int64_t{n + 1} * 3600};
    return Job{.id = DigestId(window), .window = window};
  }

  /// Shuts down and checks that delivered + handed back == `queued`, each exactly once.
  void ExpectEachJobOnce(const std::vector<Job>& queued) {
    std::vector<Job> seen = queuer_->Shutdown(60000);
    {
      std::lock_guard lock(mu_);
      seen.insert(seen.end(), handled_.begin(), handled_.end());
    }
    auto by_start = [](const Job& a, const Job& b) { return a.window.start < b.window.start; };
    std::vector<Job> expected = queued;
    std::sort(expected.begin(), expected.end(), by_start);
    std::sort(seen.begin(), seen.end(), by_start);
    EXPECT_EQ(seen, expected);
  }

  QueuerPtr queuer_;
  std::mutex mu_;
  std::vector<Job> handled_;
};

TEST_P(QueuerConformanceTest, EveryQueuedJobIsDeliveredOrHandedBackOnceAndIntact) {
  std::vector<Job> queued;
  for (int i = 0; i < 10; ++i) {
    queued.push_back(TestJob(i));
    ASSERT_OK(queuer_->Queue(queued.back()));
  }
  ExpectEachJobOnce(queued);
}

TEST_P(QueuerConformanceTest, ConcurrentQueueCallsLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) EXPECT_OK(queuer_->Queue(TestJob(t * kPerThread + i)));
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<Job> queued;
  for (int i = 0; i < kThreads * kPerThread; ++i) queued.push_back(TestJob(i));
  ExpectEachJobOnce(queued);
}

TEST_P(QueuerConformanceTest, QueueAfterShutdownIsFailedPrecondition) {
  EXPECT_TRUE(queuer_->Shutdown(0).empty());
  EXPECT_THAT(queuer_->Queue(TestJob(0)), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(QueuerConformanceTest, ShutdownIsIdempotent) {
  ASSERT_OK(queuer_->Queue(TestJob(0)));
  ExpectEachJobOnce({TestJob(0)});
  EXPECT_TRUE(queuer_->Shutdown(0).empty());
}

TEST_P(QueuerConformanceTest, IsDescribed) { EXPECT_FALSE(queuer_->Describe().empty()); }

}  // namespace vpcflow
