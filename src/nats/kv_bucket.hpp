#pragma once
/// KvBucket: a JetStream key-value bucket with compare-and-set, for state shared by every
/// process (job state, shard completion). Keys hold letters, digits and `-_/=.` (no leading,
/// trailing or double dots): key by digest id, never by an RFC 3339 time (SCALE.md).
///
/// Thread-safe (libnats's kvStore is).

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nats/nats_connection.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct KvBucketOptions {
  std::string bucket = "vpcflow_jobs";  ///< [A-Za-z0-9_-]
  int64_t ttl_ms = 0;                   ///< entries expire after this (0 = never)
  int history = 1;                      ///< values kept per key
};

struct KvEntry {
  std::string value{};
  uint64_t revision = 0;  ///< pass to Update for compare-and-set
};

class KvBucket {
 public:
  /// Binds the bucket, creating it (file storage) when missing. `connection` is not owned and
  /// must outlive the bucket. Errors as WorkQueue::Open.
  static Result<std::unique_ptr<KvBucket>> Open(NatsConnection* connection,
                                                const KvBucketOptions& options);
  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;

  /// The current value. NotFound when the key has none (never set, or deleted).
  [[nodiscard]] Result<KvEntry> Get(std::string_view key);
  /// Sets the key only when it has no value. Returns the new revision; AlreadyExists when it
  /// has one.
  [[nodiscard]] Result<uint64_t> Create(std::string_view key, std::string_view value);
  /// Sets the key only when its revision is still `revision` (compare-and-set). Returns the new
  /// revision; FailedPrecondition when another writer changed (or deleted) it meanwhile: re-read
  /// and decide again.
  [[nodiscard]] Result<uint64_t> Update(std::string_view key, std::string_view value,
                                        uint64_t revision);
  /// Sets the key whatever its value.
  [[nodiscard]] Result<uint64_t> Put(std::string_view key, std::string_view value);
  /// Removes the key's value. OK when it had none.
  [[nodiscard]] Status Delete(std::string_view key);
  /// Every key with a value.
  [[nodiscard]] Result<std::vector<std::string>> Keys();

  std::string Describe() const;

 private:
  KvBucket(NatsConnection* connection, kvStore* kv, std::string bucket)
      : connection_(connection), kv_(kv), bucket_(std::move(bucket)) {}
  std::string What(std::string_view verb, std::string_view key) const;

  NatsConnection* connection_;
  kvStore* kv_;
  std::string bucket_;
};

}  // namespace vpcflow
