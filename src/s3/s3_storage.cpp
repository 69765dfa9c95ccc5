// S3Storage: digests and manifests as objects (s3_modules.hpp).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3/s3_modules.hpp"

namespace vpcflow {
namespace {

class S3StorageUpload final : public StorageUpload {
 public:
  S3StorageUpload(std::shared_ptr<S3Client> client, std::string bucket, std::string digest_key,
                  std::string manifest_key, std::string rows_key, uint64_t part_size)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        digest_key_(std::move(digest_key)),
        manifest_key_(std::move(manifest_key)),
        rows_key_(std::move(rows_key)),
        sink_(client_->NewUpload(bucket_, digest_key_, "application/gzip", part_size)),
        rows_sink_(client_->NewUpload(bucket_, rows_key_, "application/gzip", part_size)) {}

  ByteSink& body() override { return body_; }
  ByteSink* rows_body() override { return &rows_body_; }

  Status Commit(std::string_view manifest_json) override {
    if (committed_) return FailedPreconditionError("the upload was already committed");
    committed_ = true;
    // A body that already failed (a part that could not be sent) is never committed.
    VPCFLOW_RETURN_IF_ERROR(body_.error().WithContext("storing the digest in s3://" + bucket_));
    VPCFLOW_RETURN_IF_ERROR(
        rows_body_.error().WithContext("storing the rows sidecar in s3://" + bucket_));
    // The old sidecar goes before the digest changes, the new one comes after it: a sidecar
    // seen is always the one of the digest beside it.
    VPCFLOW_RETURN_IF_ERROR(client_->DeleteObject(bucket_, rows_key_)
                                .WithContext("removing the old rows sidecar in s3://" + bucket_));
    // The manifest first: a reader that finds the digest finds its manifest.
    VPCFLOW_RETURN_IF_ERROR(client_->PutObject(bucket_, manifest_key_, manifest_json,
                                               {.content_type = "application/json"}));
    Status completed = sink_->Close();
    if (!completed.ok()) {
      // Best effort: take the manifest back so nothing new is visible.
      (void)client_->DeleteObject(bucket_, manifest_key_);
      return completed.WithContext("storing the digest in s3://" + bucket_);
    }
    if (rows_sink_->size() > 0) {
      if (Status rows = rows_sink_->Close(); !rows.ok()) {
        (void)client_->DeleteObject(bucket_, digest_key_);
        (void)client_->DeleteObject(bucket_, manifest_key_);
        return rows.WithContext("storing the rows sidecar in s3://" + bucket_);
      }
    }
    return OkStatus();
  }

 private:
  // Forwards to the upload and keeps its first error.
  class Body final : public ByteSink {
   public:
    explicit Body(ByteSink& sink) : sink_(sink) {}
    Status Append(std::string_view bytes) override { return Keep(sink_.Append(bytes)); }
    Status Close() override { return Keep(sink_.Close()); }
    const Status& error() const { return error_; }

   private:
    Status Keep(Status status) {
      if (!status.ok() && error_.ok()) error_ = status;
      return status;
    }
    ByteSink& sink_;
    Status error_;
  };

  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  const std::string digest_key_;
  const std::string manifest_key_;
  const std::string rows_key_;
  S3UploadSinkPtr sink_;  // destroyed without Close(): aborts the multipart upload
  S3UploadSinkPtr rows_sink_;
  Body body_{*sink_};
  Body rows_body_{*rows_sink_};
  bool committed_ = false;
};

// A partial: one object, put whole or by a multipart upload completed at Commit (S3 makes
// either visible at once, replacing an object of the same key).
class S3PartialUpload final : public PartialUpload {
 public:
  S3PartialUpload(std::shared_ptr<S3Client> client, std::string bucket, std::string key,
                  uint64_t part_size)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        sink_(client_->NewUpload(bucket_, std::move(key), "application/octet-stream", part_size)) {}

  ByteSink& body() override { return *sink_; }

  Status Commit() override {
    if (committed_) return FailedPreconditionError("the upload was already committed");
    committed_ = true;
    return sink_->Close().WithContext("storing a partial in s3://" + bucket_);
  }

 private:
  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  S3UploadSinkPtr sink_;  // destroyed without Close(): aborts the multipart upload
  bool committed_ = false;
};

class S3Storage final : public Storage {
 public:
  S3Storage(std::shared_ptr<S3Client> client, std::string bucket, std::string prefix,
            uint64_t part_size)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        part_size_(part_size) {}

  Result<StoredDigest> Get(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    // Size and first bytes from one answer: a HEAD first would cost a round trip, and the
    // object could change between the two.
    VPCFLOW_ASSIGN_OR_RETURN(S3OpenedObject opened, client_->Open(bucket_, DigestKey(id)));
    return StoredDigest{.reader = std::move(opened.reader), .size = opened.size};
  }

  Result<StoredDigest> GetRows(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(S3OpenedObject opened, client_->Open(bucket_, Key(id, ".rows.gz")));
    return StoredDigest{.reader = std::move(opened.reader), .size = opened.size};
  }

  Result<std::string> GetManifest(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(S3GetResult got, client_->GetObject(bucket_, ManifestKey(id)));
    return std::move(got.body);
  }

  Result<bool> Exists(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    Result<S3ObjectMeta> meta = client_->HeadObject(bucket_, DigestKey(id));
    if (meta.ok()) return true;
    if (meta.status().code() == StatusCode::kNotFound) return false;
    return meta.status();
  }

  Result<StorageUploadPtr> Begin(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    return StorageUploadPtr(std::make_unique<S3StorageUpload>(
        client_, bucket_, DigestKey(id), ManifestKey(id), Key(id, ".rows.gz"), part_size_));
  }

  Status Ready() override { return client_->HeadBucket(bucket_); }

  Result<PartialUploadPtr> BeginPartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    return PartialUploadPtr(std::make_unique<S3PartialUpload>(
        client_, bucket_, PartialsPrefix(id) + std::string(name), part_size_));
  }

  Result<ObjectReaderPtr> OpenPartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    VPCFLOW_ASSIGN_OR_RETURN(S3OpenedObject opened,
                             client_->Open(bucket_, PartialsPrefix(id) + std::string(name)));
    return std::move(opened.reader);
  }

  Result<std::vector<std::string>> ListPartials(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string prefix = PartialsPrefix(id);
    std::vector<std::string> names;
    ListRequest request{.prefix = prefix};
    for (;;) {
      VPCFLOW_ASSIGN_OR_RETURN(ListPage page, client_->ListObjectsV2(bucket_, request));
      for (const ObjectInfo& o : page.objects) names.push_back(o.key.substr(prefix.size()));
      if (page.next_token.empty()) break;
      request.continuation_token = page.next_token;
    }
    return names;  // S3 lists keys in order
  }

  Status DeletePartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    return client_->DeleteObject(bucket_, PartialsPrefix(id) + std::string(name));
  }

  Status DeletePartials(std::string_view id) override {
    VPCFLOW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListPartials(id));
    for (const std::string& name : names) {
      VPCFLOW_RETURN_IF_ERROR(client_->DeleteObject(bucket_, PartialsPrefix(id) + name));
    }
    return OkStatus();
  }

  std::string Describe() const override {
    return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_);
  }

 private:
  std::string PartialsPrefix(std::string_view id) const {
    return prefix_ + "partials/" + std::string(id) + "/";
  }
  std::string Key(std::string_view id, std::string_view suffix) const {
    return prefix_ + std::string(id) + std::string(suffix);
  }
  std::string DigestKey(std::string_view id) const { return Key(id, ".log.gz"); }
  std::string ManifestKey(std::string_view id) const { return Key(id, ".manifest.json"); }

  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  const std::string prefix_;
  const uint64_t part_size_;
};

}  // namespace

Result<StoragePtr> NewS3Storage(std::shared_ptr<S3Client> client, std::string bucket,
                                std::string prefix, uint64_t part_size) {
  if (client == nullptr) return InvalidArgumentError("S3 storage: no client");
  if (bucket.empty()) return InvalidArgumentError("S3 storage: no bucket");
  return StoragePtr(std::make_unique<S3Storage>(std::move(client), std::move(bucket),
                                                std::move(prefix), part_size));
}

}  // namespace vpcflow
