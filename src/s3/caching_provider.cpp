#include "s3/caching_provider.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace vpcflow {
namespace {

// After a failed refresh that fell back to still-valid credentials, wait this long before trying
// again, so every Get() does not hit a failing source.
constexpr int64_t kFailedRefreshBackoffMs = 10000;

// Caches what `fetch` returns and refreshes it `margin_ms` before expiry; at most one fetch at a
// time. Callers that find a refresh running keep the cached credentials while they are valid,
// else wait for that refresh and share its outcome.
class CachingProvider final : public CredentialsProvider {
 public:
  CachingProvider(std::string description, CredentialsFetch fetch, ClockPtr clock,
                  int64_t margin_ms)
      : description_(std::move(description)),
        fetch_(std::move(fetch)),
        clock_(clock ? std::move(clock) : SystemClock()),
        margin_ms_(std::max<int64_t>(margin_ms, 0)) {}

  Result<AwsCredentials> Get() override {
    std::unique_lock lock(mu_);
    for (;;) {
      const int64_t now = clock_->NowUnixMillis();
      const bool valid = cached_.has_value() && IsValid(*cached_, now);
      if (valid && now < next_refresh_ms_) return *cached_;
      if (!refreshing_) break;
      if (valid) return *cached_;  // someone is refreshing; these still work
      const uint64_t generation = generation_;
      cv_.wait(lock, [&] { return generation_ != generation; });
      if (cached_.has_value() && IsValid(*cached_, clock_->NowUnixMillis())) return *cached_;
      if (!last_error_.ok()) return last_error_;
    }
    refreshing_ = true;
    lock.unlock();
    Result<AwsCredentials> fetched = fetch_();
    lock.lock();
    refreshing_ = false;
    ++generation_;
    const int64_t now = clock_->NowUnixMillis();
    Result<AwsCredentials> answer = fetched;
    if (fetched.ok()) {
      cached_ = *fetched;
      last_error_ = OkStatus();
      next_refresh_ms_ = NextRefresh(*fetched, now);
    } else if (cached_.has_value() && IsValid(*cached_, now)) {
      // Stale but valid: keep serving them and try again a little later.
      last_error_ = fetched.status();
      next_refresh_ms_ = std::min(now + kFailedRefreshBackoffMs, cached_->expires_unix_ms);
      answer = *cached_;
    } else {
      last_error_ = fetched.status();
      if (cached_.has_value()) {
        last_error_ = Status(last_error_.code(),
                             "credentials from " + description_ +
                                 " expired and the refresh failed: " + last_error_.message());
      }
      answer = last_error_;
    }
    cv_.notify_all();
    return answer;
  }

  std::string Describe() const override { return description_; }

 private:
  static bool IsValid(const AwsCredentials& credentials, int64_t now) {
    return credentials.expires_unix_ms == 0 || now < credentials.expires_unix_ms;
  }

  // expires - margin, but for short-lived credentials (less than twice the margin left) half
  // their remaining life, so they are not refetched at every call.
  int64_t NextRefresh(const AwsCredentials& credentials, int64_t now) const {
    if (credentials.expires_unix_ms == 0) return INT64_MAX;
    const int64_t by_margin = credentials.expires_unix_ms - margin_ms_;
    const int64_t by_half = now + (credentials.expires_unix_ms - now) / 2;
    return std::max(by_margin, by_half);
  }

  const std::string description_;
  const CredentialsFetch fetch_;
  const ClockPtr clock_;
  const int64_t margin_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool refreshing_ = false;
  uint64_t generation_ = 0;  // completed fetches
  std::optional<AwsCredentials> cached_;
  int64_t next_refresh_ms_ = 0;
  Status last_error_;
};

}  // namespace

CredentialsProviderPtr NewCachingProvider(std::string description, CredentialsFetch fetch,
                                          ClockPtr clock, int64_t margin_ms) {
  return std::make_shared<CachingProvider>(std::move(description), std::move(fetch),
                                           std::move(clock), margin_ms);
}

}  // namespace vpcflow
