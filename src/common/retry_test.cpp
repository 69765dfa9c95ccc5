#include "common/retry.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace vpcflow {
namespace {

TEST(RetryBackoffTest, FullJitterStaysUnderTheDoublingCap) {
  const RetryPolicy policy{.max_attempts = 10, .base_delay_ms = 100, .max_delay_ms = 1000};
  EXPECT_EQ(RetryBackoffMillis(policy, 1, 0.0), 0);
  EXPECT_EQ(RetryBackoffMillis(policy, 1, 0.999999), 100);
  EXPECT_EQ(RetryBackoffMillis(policy, 2, 0.999999), 200);
  EXPECT_EQ(RetryBackoffMillis(policy, 3, 0.5), 200);  // half of the 400 cap
  EXPECT_EQ(RetryBackoffMillis(policy, 4, 0.999999), 800);
  EXPECT_EQ(RetryBackoffMillis(policy, 5, 0.999999), 1000);    // capped
  EXPECT_EQ(RetryBackoffMillis(policy, 500, 0.999999), 1000);  // no overflow
  EXPECT_EQ(RetryBackoffMillis(policy, 2, 7.0), 200);          // the draw is clamped
}

TEST(RetryBackoffTest, WithoutJitterWaitsTheCap) {
  const RetryPolicy policy{.base_delay_ms = 100, .max_delay_ms = 2000, .full_jitter = false};
  EXPECT_EQ(RetryBackoffMillis(policy, 1, 0.0), 100);
  EXPECT_EQ(RetryBackoffMillis(policy, 2, 0.0), 200);
  EXPECT_EQ(RetryBackoffMillis(policy, 6, 0.0), 2000);
  EXPECT_EQ(RetryBackoffMillis({.base_delay_ms = -5, .full_jitter = false}, 3, 0.0), 0);
}

TEST(RetryTest, StopsAtTheFirstStopWithoutWaiting) {
  std::vector<int64_t> waits;
  int calls = 0;
  const RetryOutcome outcome = Retry(
      {.max_attempts = 5},
      [&](int n) {
        ++calls;
        EXPECT_EQ(n, calls);
        return n < 3 ? RetryVerdict::kRetry : RetryVerdict::kStop;
      },
      [&](int64_t ms) {
        waits.push_back(ms);
        return true;
      });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_FALSE(outcome.exhausted);
  EXPECT_FALSE(outcome.interrupted);
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_LE(waits[0], 100);
  EXPECT_LE(waits[1], 200);
}

TEST(RetryTest, GivesUpAfterMaxAttemptsWithTheDelaysOfThePolicy) {
  std::vector<int64_t> waits;
  const RetryOutcome outcome = Retry(
      {.max_attempts = 4, .base_delay_ms = 50, .max_delay_ms = 120, .full_jitter = false},
      [](int) { return RetryVerdict::kRetry; },
      [&](int64_t ms) {
        waits.push_back(ms);
        return true;
      });
  EXPECT_EQ(outcome.attempts, 4);
  EXPECT_TRUE(outcome.exhausted);
  EXPECT_EQ(waits, (std::vector<int64_t>{50, 100, 120}));
}

TEST(RetryTest, OneAttemptWhenThePolicySaysNoneOrLess) {
  int calls = 0;
  const RetryOutcome outcome = Retry(
      {.max_attempts = 0},
      [&](int) {
        ++calls;
        return RetryVerdict::kRetry;
      },
      [](int64_t) -> bool {
        ADD_FAILURE() << "no wait expected";
        return true;
      });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(outcome.exhausted);
}

TEST(RetryTest, ASleeperThatRefusesStopsTheRetries) {
  int calls = 0;
  const RetryOutcome outcome = Retry(
      {.max_attempts = 5},
      [&](int) {
        ++calls;
        return RetryVerdict::kRetry;
      },
      [](int64_t) { return false; });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_FALSE(outcome.exhausted);
}

TEST(RetryTest, ClassifiesTheCommonTransientCases) {
  for (int status : {429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableHttpStatus(status)) << status;
  for (int status : {200, 400, 401, 403, 404, 412, 501}) {
    EXPECT_FALSE(IsRetryableHttpStatus(status)) << status;
  }
  EXPECT_TRUE(IsTransientError(UnavailableError("refused")));
  EXPECT_TRUE(IsTransientError(DeadlineExceededError("timeout")));
  EXPECT_FALSE(IsTransientError(InvalidArgumentError("bad url")));
  EXPECT_FALSE(IsTransientError(OkStatus()));
}

}  // namespace
}  // namespace vpcflow
