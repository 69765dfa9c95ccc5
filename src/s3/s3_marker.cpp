// S3Marker: in-progress markers and failure records as objects (s3_modules.hpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "modules/text_format.hpp"
#include "s3/s3_modules.hpp"

namespace vpcflow {
namespace {

// Mark() re-reads and retries when the marker vanishes or changes between its steps; this many
// rounds at most (each round means another writer made progress).
constexpr int kMarkRounds = 8;

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 random((static_cast<uint64_t>(device()) << 32) ^ device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kHex[random() & 15]);
  return out;
}

class S3Marker final : public Marker {
 public:
  S3Marker(std::shared_ptr<S3Client> client, std::string bucket, std::string prefix, int64_t ttl_ms,
           ClockPtr clock)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        ttl_ms_(ttl_ms),
        clock_(clock ? std::move(clock) : SystemClock()) {}

  // Checks whether the server honours If-None-Match on PUT (and that the bucket is writable).
  Result<bool> ProbeConditionalPut() {
    const std::string key = prefix_ + ".vpcflow-probe-" + RandomSuffix();
    RETURN_IF_ERROR(client_->PutObject(bucket_, key, "probe", {.if_none_match = true}));
    Status second = client_->PutObject(bucket_, key, "probe", {.if_none_match = true});
    Status cleanup = client_->DeleteObject(bucket_, key);
    if (second.ok()) return false;
    if (second.code() != StatusCode::kAlreadyExists) return second;
    RETURN_IF_ERROR(cleanup);
    return true;
  }

  void set_atomic(bool atomic) { atomic_ = atomic; }

  Status Mark(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string key = MarkerKey(id);
    for (int round = 0; round < kMarkRounds; ++round) {
      if (!atomic_) {
        ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
        if (current && Live(*current)) return AlreadyExistsError(Named(id) + " is in progress");
        RETURN_IF_ERROR(Write(key, {}));
        return ClearFailure(id);
      }
      Status created = client_->PutObject(bucket_, key, Now(), {.if_none_match = true});
      if (created.ok()) return ClearFailure(id);
      if (created.code() != StatusCode::kAlreadyExists)
        return created.WithContext("mark " + Named(id));
      ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
      if (!current) continue;  // removed meanwhile: try to create again
      if (Live(*current)) return AlreadyExistsError(Named(id) + " is in progress");
      // Stale: replace it only if it is still the same object, so one racer wins.
      Status replaced = client_->PutObject(bucket_, key, Now(), {.if_match = current->etag});
      if (replaced.ok()) return ClearFailure(id);
      if (replaced.code() == StatusCode::kFailedPrecondition ||
          replaced.code() == StatusCode::kAlreadyExists) {
        return AlreadyExistsError(Named(id) + " was taken over by another worker");
      }
      if (replaced.code() != StatusCode::kNotFound)
        return replaced.WithContext("mark " + Named(id));
    }
    return UnavailableError("mark " + Named(id) + ": the marker kept changing; try again");
  }

  Status Refresh(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string key = MarkerKey(id);
    ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
    if (!current) return NotFoundError("no marker for " + std::string(id));
    Status written = Write(key, atomic_ ? current->etag : "");
    if (written.code() == StatusCode::kFailedPrecondition) {
      return NotFoundError("the marker of " + std::string(id) + " was replaced or removed");
    }
    return written.WithContext("refresh " + Named(id));
  }

  Status Unmark(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    return client_->DeleteObject(bucket_, MarkerKey(id));
  }

  Status Fail(std::string_view id, std::string_view reason) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    // The record: the time it was written on the first line, then the reason.
    RETURN_IF_ERROR(client_->PutObject(bucket_, FailedKey(id), Now() + "\n" + std::string(reason),
                                       {.content_type = "text/plain"}));
    return client_->DeleteObject(bucket_, MarkerKey(id));
  }

  Result<MarkInfo> State(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    ASSIGN_OR_RETURN(std::optional<Current> current, Read(MarkerKey(id)));
    MarkInfo info;
    if (current) {
      info.state = Live(*current) ? MarkState::kInProgress : MarkState::kStale;
      info.written_unix_ms = current->written_unix_ms;
      return info;
    }
    Result<S3GetResult> failed = client_->GetObject(bucket_, FailedKey(id));
    if (!failed.ok()) {
      if (failed.status().code() == StatusCode::kNotFound) return info;
      return failed.status();
    }
    info.state = MarkState::kFailed;
    const std::string& body = failed->body;
    const size_t newline = body.find('\n');
    if (newline == std::string::npos) {
      info.failure = body;  // not written by this marker: all of it is the reason
    } else {
      info.written_unix_ms = ParseRfc3339Millis(body.substr(0, newline)).value_or(0);
      info.failure = body.substr(newline + 1);
    }
    return info;
  }

  Status Ready() override { return client_->HeadBucket(bucket_); }

  std::string Describe() const override {
    return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_) +
           (atomic_ ? "" : " (non-atomic marks: the server ignores If-None-Match)");
  }

 private:
  struct Current {
    int64_t written_unix_ms = 0;
    std::string etag;
  };

  std::string MarkerKey(std::string_view id) const {
    return prefix_ + std::string(id) + "_in_progress";
  }
  std::string FailedKey(std::string_view id) const { return prefix_ + std::string(id) + "_failed"; }
  std::string Named(std::string_view id) const { return "digest " + std::string(id); }
  std::string Now() const { return FormatRfc3339Millis(clock_->NowUnixMillis()); }

  bool Live(const Current& current) const {
    return clock_->NowUnixMillis() - current.written_unix_ms < ttl_ms_;
  }

  // The marker, or nullopt when there is none. A body that is not an RFC 3339 time counts as
  // written at the epoch (so it is stale and gets replaced).
  Result<std::optional<Current>> Read(const std::string& key) {
    Result<S3GetResult> got = client_->GetObject(bucket_, key);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Current>();
      return got.status();
    }
    Current current{.written_unix_ms = ParseRfc3339Millis(got->body).value_or(0),
                    .etag = std::move(got->etag)};
    return std::optional<Current>(std::move(current));
  }

  Status Write(const std::string& key, const std::string& if_match) {
    return client_->PutObject(bucket_, key, Now(), {.if_match = if_match});
  }

  Status ClearFailure(std::string_view id) { return client_->DeleteObject(bucket_, FailedKey(id)); }

  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  const std::string prefix_;
  const int64_t ttl_ms_;
  const ClockPtr clock_;
  bool atomic_ = true;
};

}  // namespace

Result<MarkerPtr> NewS3Marker(std::shared_ptr<S3Client> client, std::string bucket, int64_t ttl_ms,
                              ClockPtr clock, std::string prefix, bool* atomic) {
  if (client == nullptr) return InvalidArgumentError("S3 marker: no client");
  if (bucket.empty()) return InvalidArgumentError("S3 marker: no bucket");
  if (ttl_ms <= 0) return InvalidArgumentError("S3 marker: the TTL must be positive");
  auto marker = std::make_unique<S3Marker>(std::move(client), std::move(bucket), std::move(prefix),
                                           ttl_ms, std::move(clock));
  Result<bool> conditional = marker->ProbeConditionalPut();
  if (!conditional.ok()) {
    return conditional.status().WithContext("S3 marker " + marker->Describe());
  }
  marker->set_atomic(*conditional);
  if (atomic != nullptr) *atomic = *conditional;
  return MarkerPtr(std::move(marker));
}

}  // namespace vpcflow
