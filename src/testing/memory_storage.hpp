#pragma once
/// MemoryStorage: a Storage in memory for tests. Thread-safe (one mutex). Readers hold a shared
/// copy of the bytes they opened, so replacing a digest never disturbs a reader. Fault injection
/// is done by wrapping (StorageWrapper), not here.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vpcflow/storage.hpp"

namespace vpcflow {

class MemoryStorage final : public Storage {
 public:
  Result<StoredDigest> Get(std::string_view id) override;
  Result<StoredDigest> GetRows(std::string_view id) override;
  Result<std::string> GetManifest(std::string_view id) override;
  Result<bool> Exists(std::string_view id) override;
  Result<StorageUploadPtr> Begin(std::string_view id) override;
  std::string Describe() const override { return "memory"; }

  /// Test inspection: the stored digest bytes / manifest, nullopt when not stored.
  std::optional<std::string> Digest(std::string_view id) const;
  std::optional<std::string> Manifest(std::string_view id) const;
  std::optional<std::string> Rows(std::string_view id) const;
  /// Number of stored digests and of successful commits so far.
  size_t size() const;
  size_t commits() const;

 private:
  struct Entry {
    std::shared_ptr<const std::string> digest;
    std::string manifest;
    std::shared_ptr<const std::string> rows;  ///< null: no sidecar
  };
  friend class MemoryUpload;
  void Publish(std::string id, std::string digest, std::string manifest,
               std::optional<std::string> rows);

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  size_t commits_ = 0;
};

}  // namespace vpcflow
