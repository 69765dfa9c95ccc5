#include "testing/memory_storage.hpp"

#include <algorithm>

#include "testing/memory_object_source.hpp"

namespace vpcflow {

class MemoryUpload final : public StorageUpload {
 public:
  MemoryUpload(MemoryStorage* storage, std::string id) : storage_(storage), id_(std::move(id)) {}

  ByteSink& body() override { return sink_; }
  ByteSink* rows_body() override { return &rows_; }

  Status Commit(std::string_view manifest_json) override {
    if (ended_) return FailedPreconditionError("upload of " + id_ + " already ended");
    ended_ = true;
    VPCFLOW_RETURN_IF_ERROR(sink_.Close());
    std::optional<std::string> rows;
    if (!rows_.data().empty()) rows = rows_.Release();
    storage_->Publish(id_, sink_.Release(), std::string(manifest_json), std::move(rows));
    return OkStatus();
  }

 private:
  MemoryStorage* storage_;
  std::string id_;
  StringSink sink_;
  StringSink rows_;
  bool ended_ = false;
};

class MemoryPartialUpload final : public PartialUpload {
 public:
  MemoryPartialUpload(MemoryStorage* storage, std::string id, std::string name)
      : storage_(storage), id_(std::move(id)), name_(std::move(name)) {}

  ByteSink& body() override { return sink_; }

  Status Commit() override {
    if (ended_) return FailedPreconditionError("upload of " + name_ + " already ended");
    ended_ = true;
    VPCFLOW_RETURN_IF_ERROR(sink_.Close());
    storage_->PublishPartial(id_, name_, sink_.Release());
    return OkStatus();
  }

 private:
  MemoryStorage* storage_;
  std::string id_;
  std::string name_;
  StringSink sink_;
  bool ended_ = false;
};

void MemoryStorage::PublishPartial(const std::string& id, const std::string& name,
                                   std::string bytes) {
  std::lock_guard lock(mu_);
  partials_[id][name] = std::make_shared<const std::string>(std::move(bytes));
}

Result<PartialUploadPtr> MemoryStorage::BeginPartial(std::string_view id, std::string_view name) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
  return PartialUploadPtr(
      std::make_unique<MemoryPartialUpload>(this, std::string(id), std::string(name)));
}

Result<ObjectReaderPtr> MemoryStorage::OpenPartial(std::string_view id, std::string_view name) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
  std::lock_guard lock(mu_);
  auto it = partials_.find(id);
  if (it != partials_.end()) {
    auto p = it->second.find(std::string(name));
    if (p != it->second.end()) return NewSharedStringReader(p->second);
  }
  return NotFoundError("partial " + std::string(id) + "/" + std::string(name) + " is not stored");
}

Result<std::vector<std::string>> MemoryStorage::ListPartials(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  auto it = partials_.find(id);
  if (it != partials_.end()) {
    for (const auto& [name, bytes] : it->second) names.push_back(name);
  }
  return names;
}

Status MemoryStorage::DeletePartials(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  if (auto it = partials_.find(id); it != partials_.end()) partials_.erase(it);
  return OkStatus();
}

Status MemoryStorage::DeletePartial(std::string_view id, std::string_view name) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
  std::lock_guard lock(mu_);
  if (auto it = partials_.find(id); it != partials_.end()) it->second.erase(std::string(name));
  return OkStatus();
}

Result<StoredDigest> MemoryStorage::Get(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFoundError("digest " + std::string(id) + " is not stored");
  StoredDigest digest;
  digest.size = it->second.digest->size();
  digest.reader = NewSharedStringReader(it->second.digest);
  return digest;
}

Result<StoredDigest> MemoryStorage::GetRows(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.rows == nullptr) {
    return NotFoundError("rows of digest " + std::string(id) + " are not stored");
  }
  StoredDigest rows;
  rows.size = it->second.rows->size();
  rows.reader = NewSharedStringReader(it->second.rows);
  return rows;
}

Result<std::string> MemoryStorage::GetManifest(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return NotFoundError("manifest " + std::string(id) + " is not stored");
  return it->second.manifest;
}

Result<bool> MemoryStorage::Exists(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  return entries_.find(id) != entries_.end();
}

Result<StorageUploadPtr> MemoryStorage::Begin(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  return StorageUploadPtr(std::make_unique<MemoryUpload>(this, std::string(id)));
}

std::optional<std::string> MemoryStorage::Digest(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return *it->second.digest;
}

std::optional<std::string> MemoryStorage::Manifest(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.manifest;
}

std::optional<std::string> MemoryStorage::Rows(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.rows == nullptr) return std::nullopt;
  return *it->second.rows;
}

size_t MemoryStorage::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t MemoryStorage::commits() const {
  std::lock_guard lock(mu_);
  return commits_;
}

void MemoryStorage::Publish(std::string id, std::string digest, std::string manifest,
                            std::optional<std::string> rows) {
  std::lock_guard lock(mu_);
  Entry& entry = entries_[std::move(id)];
  entry.digest = std::make_shared<const std::string>(std::move(digest));
  entry.manifest = std::move(manifest);
  entry.rows = rows ? std::make_shared<const std::string>(std::move(*rows)) : nullptr;
  ++commits_;
}

}  // namespace vpcflow
