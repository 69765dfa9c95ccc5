#pragma once
/// Retries: the one retry policy of the project and the one loop that runs it (issue 13). S3
/// requests, the credential sources (STS, IMDS, the container endpoint), the HTTP queuer and
/// whatever comes next describe how they retry with a RetryPolicy and run their attempts with
/// Retry(); only what counts as "worth retrying" stays with the caller (IsRetryableHttpStatus
/// and IsTransientError are the common part of that).
///
/// Backoff is capped exponential with full jitter (AWS Architecture Blog, "Exponential Backoff
/// and Jitter"): before retry n the wait is uniform in [0, min(max_delay, base_delay * 2^(n-1))].
/// The wait goes through a Sleeper, so tests record the delays instead of waiting, and a caller
/// that shuts down can cut a wait short. Thread-safe: Retry() keeps no state between calls.

#include <cstdint>
#include <functional>

#include "vpcflow/status.hpp"

namespace vpcflow {

struct RetryPolicy {
  int max_attempts = 3;         ///< tries in all (values below 1 count as 1: no retry)
  int64_t base_delay_ms = 100;  ///< the cap of the first wait
  int64_t max_delay_ms = 5000;  ///< no wait longer than this
  /// Full jitter (uniform in [0, cap]); false waits the cap itself (deterministic backoff).
  bool full_jitter = true;
};

/// The wait before retry number `retry` (1-based) under `policy`; `unit_random` in [0, 1) is the
/// random draw (ignored without jitter). Never negative, never above max_delay_ms. Pure.
int64_t RetryBackoffMillis(const RetryPolicy& policy, int retry, double unit_random);

/// Waits `ms` milliseconds; returns false when the wait was cut short and the retries must stop
/// (the caller is shutting down). Must be callable from several threads at once.
using Sleeper = std::function<bool(int64_t ms)>;

/// A Sleeper that sleeps the calling thread and always returns true.
Sleeper ThreadSleeper();

/// What one attempt says about the next.
enum class RetryVerdict {
  kStop,   ///< done: success, or a failure not worth retrying
  kRetry,  ///< a transient failure: try again if the policy allows
};

struct RetryOutcome {
  int attempts = 0;          ///< attempts made (at least 1)
  bool exhausted = false;    ///< the last attempt asked for a retry and none was left
  bool interrupted = false;  ///< the Sleeper cut a wait short
};

/// Calls `attempt(n)` for n = 1, 2, ... until it returns kStop, `policy.max_attempts` attempts
/// were made, or `sleep` returns false; between two attempts waits RetryBackoffMillis through
/// `sleep` (null = ThreadSleeper()). The attempt keeps its own result (a captured variable);
/// the outcome says how the loop ended. Exceptions from `attempt` propagate.
RetryOutcome Retry(const RetryPolicy& policy,
                   const std::function<RetryVerdict(int attempt)>& attempt,
                   const Sleeper& sleep = nullptr);

/// HTTP statuses that mean "try again" for the services this project calls (S3, STS, IMDS, the
/// container endpoint, the event bus): 429, 500, 502, 503, 504.
bool IsRetryableHttpStatus(int status);

/// Errors of an HttpClient exchange worth retrying: Unavailable (connection refused or reset)
/// and DeadlineExceeded (timeout).
bool IsTransientError(const Status& status);

}  // namespace vpcflow
