#pragma once
/// The JobStateStore conformance suite. An implementation runs it with one line in ONE test file
/// of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(Memory, JobStateStoreConformanceTest,
///       ::testing::Values(JobStateStoreFactory([] { return NewMemoryJobStateStore(); })));
///
/// The factory makes a fresh, empty store for each test (null on failure).

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <thread>
#include <vector>

#include "testing/matchers.hpp"
#include "vpcflow/job_state.hpp"

namespace vpcflow {

struct JobStateStoreFactory {
  template <typename F>
  JobStateStoreFactory(F f) : make(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  std::function<JobStateStorePtr()> make;
  friend void PrintTo(const JobStateStoreFactory&, std::ostream* os) {
    *os << "JobStateStoreFactory";
  }
};

class JobStateStoreConformanceTest : public ::testing::TestWithParam<JobStateStoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
  }
  static constexpr char kId[] = "0000abcd-0000-5000-8000-000000000001";
  JobStateStorePtr store_;
};

TEST_P(JobStateStoreConformanceTest, UnknownJobIsNotFound) {
  EXPECT_THAT(store_->Get(kId), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Remove(kId), IsOk());
}

TEST_P(JobStateStoreConformanceTest, UpdateCreatesChangesAndStampsTheState) {
  Result<JobState> first = store_->Update(kId, [](JobState& s) {
    EXPECT_EQ(s, JobState{});  // a job without state starts from the default
    s.holders["digest"] = "host/1";
    return OkStatus();
  });
  ASSERT_THAT(first, IsOk());
  EXPECT_GT(first->updated_unix_ms, 0);
  Result<JobState> second = store_->Update(kId, [](JobState& s) {
    EXPECT_EQ(s.holders.at("digest"), "host/1");
    s.phase = JobPhase::kRunning;
    s.progress = {.objects_done = 1, .objects_total = 4, .bytes_done = 10, .bytes_total = 40};
    s.shards_total = 3;
    s.shards_done = 2;
    s.holders["shard/b"] = "other/7";
    s.failure = "shard a: DATA_LOSS";
    return OkStatus();
  });
  ASSERT_THAT(second, IsOk());
  Result<JobState> got = store_->Get(kId);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(*got, *second);
  EXPECT_EQ(got->holders.size(), 2u);
  EXPECT_EQ(got->progress.bytes_total, 40u);
}

TEST_P(JobStateStoreConformanceTest, FailingChangeWritesNothing) {
  ASSERT_THAT(store_->Update(kId,
                             [](JobState& s) {
                               s.shards_total = 5;
                               return OkStatus();
                             }),
              IsOk());
  EXPECT_THAT(store_->Update(kId,
                             [](JobState& s) {
                               s.shards_total = 99;
                               return FailedPreconditionError("no");
                             }),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(store_->Get(kId)->shards_total, 5);
}

TEST_P(JobStateStoreConformanceTest, RemoveForgetsTheJob) {
  ASSERT_THAT(store_->Update(kId, [](JobState&) { return OkStatus(); }), IsOk());
  ASSERT_THAT(store_->Remove(kId), IsOk());
  EXPECT_THAT(store_->Get(kId), StatusIs(StatusCode::kNotFound));
  Result<JobState> again = store_->Update(kId, [](JobState& s) {
    EXPECT_EQ(s.shards_done, 0);
    return OkStatus();
  });
  EXPECT_THAT(again, IsOk());
}

// Shards completing at once on several workers: every completion is counted once.
TEST_P(JobStateStoreConformanceTest, ConcurrentUpdatesLoseNone) {
  constexpr int kThreads = 4;
  constexpr int kEach = 8;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kEach; ++i) {
        Result<JobState> r = store_->Update(kId, [&](JobState& s) {
          ++s.shards_done;
          s.holders["shard/" + std::to_string(t)] = "w" + std::to_string(t);
          return OkStatus();
        });
        EXPECT_THAT(r, IsOk());
      }
    });
  }
  for (auto& t : threads) t.join();
  Result<JobState> got = store_->Get(kId);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->shards_done, kThreads * kEach);
  EXPECT_EQ(got->holders.size(), static_cast<size_t>(kThreads));
}

}  // namespace vpcflow
