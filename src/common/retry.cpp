#include "common/retry.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace vpcflow {
namespace {

double UnitRandom() {
  // One generator per thread: thread-safe without a lock.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

}  // namespace

int64_t RetryBackoffMillis(const RetryPolicy& policy, int retry, double unit_random) {
  int64_t cap = std::max<int64_t>(policy.base_delay_ms, 0);
  const int64_t max = std::max<int64_t>(policy.max_delay_ms, 0);
  for (int i = 1; i < retry && cap < max; ++i) cap *= 2;  // stops before it can overflow
  cap = std::min(cap, max);
  if (!policy.full_jitter) return cap;
  const double u = std::clamp(unit_random, 0.0, 1.0);
  // floor(u * (cap + 1)) is uniform over the integers 0..cap for u uniform in [0, 1).
  return std::min(cap, static_cast<int64_t>(u * static_cast<double>(cap + 1)));
}

Sleeper ThreadSleeper() {
  return [](int64_t ms) {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return true;
  };
}

RetryOutcome Retry(const RetryPolicy& policy,
                   const std::function<RetryVerdict(int attempt)>& attempt, const Sleeper& sleep) {
  const int attempts = std::max(policy.max_attempts, 1);
  RetryOutcome outcome;
  for (int n = 1;; ++n) {
    outcome.attempts = n;
    if (attempt(n) == RetryVerdict::kStop) return outcome;
    if (n >= attempts) {
      outcome.exhausted = true;
      return outcome;
    }
    const int64_t wait = RetryBackoffMillis(policy, n, UnitRandom());
    const bool go_on = sleep ? sleep(wait) : ThreadSleeper()(wait);
    if (!go_on) {
      outcome.interrupted = true;
      return outcome;
    }
  }
}

bool IsRetryableHttpStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool IsTransientError(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace vpcflow
