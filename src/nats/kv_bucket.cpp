#include "nats/kv_bucket.hpp"

#include "nats/nats_status.hpp"

namespace vpcflow {

Result<std::unique_ptr<KvBucket>> KvBucket::Open(NatsConnection* connection,
                                                 const KvBucketOptions& options) {
  jsCtx* js = connection->jetstream();
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, js, options.bucket.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = options.bucket.c_str();
    cfg.History = static_cast<uint8_t>(options.history < 1 ? 1 : options.history);
    cfg.TTL = options.ttl_ms * 1000000;
    cfg.StorageType = js_FileStorage;
    s = js_CreateKeyValue(&kv, js, &cfg);
    // Another process may have created it meanwhile.
    if (s != NATS_OK) s = js_KeyValue(&kv, js, options.bucket.c_str());
  }
  if (s != NATS_OK) {
    return NatsError(s, "key-value bucket " + options.bucket + " on " + connection->Describe());
  }
  return std::unique_ptr<KvBucket>(new KvBucket(connection, kv, options.bucket));
}

KvBucket::~KvBucket() { kvStore_Destroy(kv_); }

std::string KvBucket::What(std::string_view verb, std::string_view key) const {
  return std::string(verb) + " " + bucket_ + "/" + std::string(key);
}

std::string KvBucket::Describe() const {
  return "NATS key-value bucket " + bucket_ + " on " + connection_->Describe();
}

Result<KvEntry> KvBucket::Get(std::string_view key) {
  const std::string k(key);
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, kv_, k.c_str());
  if (s != NATS_OK) return NatsError(s, What("get", key));
  KvEntry out;
  const char* data = static_cast<const char*>(kvEntry_Value(e));
  if (data != nullptr) out.value.assign(data, static_cast<size_t>(kvEntry_ValueLen(e)));
  out.revision = kvEntry_Revision(e);
  kvEntry_Destroy(e);
  return out;
}

Result<uint64_t> KvBucket::Create(std::string_view key, std::string_view value) {
  const std::string k(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, kv_, k.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK) return rev;
  // A lost race comes back as a plain NATS_ERR without an error code (SCALE.md): re-read.
  if (s == NATS_ERR) {
    Result<KvEntry> now = Get(key);
    if (now.ok()) return AlreadyExistsError(What("create", key) + ": the key has a value");
  }
  return NatsError(s, What("create", key));
}

Result<uint64_t> KvBucket::Update(std::string_view key, std::string_view value, uint64_t revision) {
  const std::string k(key);
  uint64_t rev = 0;
  natsStatus s =
      kvStore_Update(&rev, kv_, k.c_str(), value.data(), static_cast<int>(value.size()), revision);
  if (s == NATS_OK) return rev;
  if (s == NATS_ERR) {
    Result<KvEntry> now = Get(key);
    if ((now.ok() && now->revision != revision) || IsNotFound(now.status())) {
      return FailedPreconditionError(What("update", key) +
                                     ": changed by another writer (revision " +
                                     std::to_string(revision) + " is no longer the last)");
    }
  }
  return NatsError(s, What("update", key));
}

Result<uint64_t> KvBucket::Put(std::string_view key, std::string_view value) {
  const std::string k(key);
  uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv_, k.c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) return NatsError(s, What("put", key));
  return rev;
}

Status KvBucket::Delete(std::string_view key) {
  const std::string k(key);
  return NatsError(kvStore_Delete(kv_, k.c_str()), What("delete", key));
}

Result<std::vector<std::string>> KvBucket::Keys() {
  kvKeysList list{nullptr, 0};
  natsStatus s = kvStore_Keys(&list, kv_, nullptr);
  std::vector<std::string> out;
  if (s == NATS_NOT_FOUND) return out;  // an empty bucket
  if (s != NATS_OK) return NatsError(s, "keys of " + bucket_);
  for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
  kvKeysList_Destroy(&list);
  return out;
}

}  // namespace vpcflow
