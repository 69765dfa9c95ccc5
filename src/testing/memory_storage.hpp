#pragma once
/// MemoryStorage: a Storage in memory for tests. Thread-safe (one mutex). Readers hold a shared
/// copy of the bytes they opened, so replacing a digest never disturbs a reader. Fault injection
/// is done by wrapping (StorageWrapper), not here.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
  Result<PartialUploadPtr> BeginPartial(std::string_view id, std::string_view name) override;
  Result<ObjectReaderPtr> OpenPartial(std::string_view id, std::string_view name) override;
  Result<std::vector<std::string>> ListPartials(std::string_view id) override;
  Status DeletePartials(std::string_view id) override;
  Status DeletePartial(std::string_view id, std::string_view name) override;

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
  friend class MemoryPartialUpload;
  void Publish(std::string id, std::string digest, std::string manifest,
               std::optional<std::string> rows);
  void PublishPartial(const std::string& id, const std::string& name, std::string bytes);

  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  size_t commits_ = 0;
  // id -> name -> bytes
  std::map<std::string, std::map<std::string, std::shared_ptr<const std::string>>, std::less<>>
      partials_;
};

}  // namespace vpcflow
