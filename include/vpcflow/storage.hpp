#pragma once
/// Storage: where finished digests and their manifests live (DESIGN.md, "Storage keys").
///
/// A digest is stored as `<id>.log.gz` with `<id>.manifest.json` beside it, and optionally its
/// rows sidecar `<id>.rows.gz` (what queries need that the digest lacks). Writing is a
/// two-step upload: Begin() returns an upload whose body is streamed, then Commit() publishes
/// digest and manifest so a reader sees either nothing or both (the manifest becomes visible
/// no later than the digest). Implementations must be thread-safe; an upload is used by one
/// thread at a time, except that body() and rows_body() may be appended to at once from two
/// threads, one each (the job runner writes both forms from one walk of the rows). Built-ins:
/// NewFileStorage (the embedded default), the S3 storage (src/s3/s3_modules.hpp) and, for tests,
/// testing/MemoryStorage.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// OK when `id` is a digest id: a canonical lower-case UUID ("9740a140-ba85-5600-8b93-
/// 7b46eec77617"). Otherwise InvalidArgument. Every Storage and Marker method returns this error
/// for any other id, so an id can never name a path outside the store ("../x", "a/b").
[[nodiscard]] Status ValidateDigestId(std::string_view id);

/// An upload in progress. Destroying it without Commit() aborts it (nothing becomes visible).
class StorageUpload {
 public:
  virtual ~StorageUpload() = default;
  /// Where the gzip digest bytes go. Do not Close() it; Commit() does.
  virtual ByteSink& body() = 0;
  /// Optional: where the bytes of the digest's rows sidecar `<id>.rows.gz` go (DESIGN.md, "The
  /// rows sidecar"), or null when the store keeps no sidecars (the default). Do not Close() it.
  /// Nothing appended: no sidecar is published.
  virtual ByteSink* rows_body() { return nullptr; }
  /// Publishes the digest and `manifest_json`, and the sidecar when one was written. Order, so
  /// that a reader never sees a sidecar that disagrees with the digest beside it: any stored
  /// sidecar of the id is removed first, the sidecar is published last. Returns the store's
  /// error (Unavailable, PermissionDenied, Internal) and leaves nothing new visible when it
  /// fails (a failure to publish the sidecar takes the new digest back). Call it once: a second
  /// call returns FailedPrecondition.
  [[nodiscard]] virtual Status Commit(std::string_view manifest_json) = 0;
};
using StorageUploadPtr = std::unique_ptr<StorageUpload>;

/// A partial being stored (Storage::BeginPartial). Destroying it without Commit() leaves
/// nothing new visible.
class PartialUpload {
 public:
  virtual ~PartialUpload() = default;
  /// Where the partial's bytes go. Do not Close() it; Commit() does.
  virtual ByteSink& body() = 0;
  /// Publishes the partial under its name, replacing one of the same name at once (a reader
  /// sees the old or the new bytes, never a mix). The store's error otherwise; call it once.
  [[nodiscard]] virtual Status Commit() = 0;
};
using PartialUploadPtr = std::unique_ptr<PartialUpload>;

/// OK when `name` may name a partial: 1-200 characters of [A-Za-z0-9._-], not starting with
/// '.'. InvalidArgument otherwise (so a name can never leave `partials/<id>/`).
[[nodiscard]] Status ValidatePartialName(std::string_view name);

/// A stored digest opened for streaming.
struct StoredDigest {
  ObjectReaderPtr reader{};  ///< the gzip bytes
  uint64_t size = 0;         ///< bytes
};

class Storage {
 public:
  virtual ~Storage() = default;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// Opens the digest `<id>.log.gz`. Returns NotFound when it is not stored. The reader keeps
  /// reading the bytes it opened even if the digest is replaced meanwhile.
  [[nodiscard]] virtual Result<StoredDigest> Get(std::string_view id) = 0;
  /// Optional: opens the rows sidecar `<id>.rows.gz` of a stored digest. Returns NotFound when
  /// the digest has none (made before sidecars, or by a store without them), Unimplemented
  /// (the default) when the store keeps no sidecars.
  [[nodiscard]] virtual Result<StoredDigest> GetRows(std::string_view id) {
    return UnimplementedError("this store keeps no rows sidecars (" + std::string(id) + ")");
  }
  /// The manifest text. Returns NotFound when it is not stored.
  [[nodiscard]] virtual Result<std::string> GetManifest(std::string_view id) = 0;
  /// Whether the digest is stored (OK + false when not; errors only when the store fails).
  [[nodiscard]] virtual Result<bool> Exists(std::string_view id) = 0;
  /// Starts storing digest `id` (replacing any stored one on Commit).
  [[nodiscard]] virtual Result<StorageUploadPtr> Begin(std::string_view id) = 0;
  /// Checks the store is reachable and writable (for /readyz). Default: OK.
  [[nodiscard]] virtual Status Ready() { return OkStatus(); }
  /// "dir:/var/digests", "s3://bucket".
  virtual std::string Describe() const = 0;

  /// Partials of a digest being built (issue 10): named blobs under `partials/<id>/<name>`,
  /// written atomically, replaced by a later write of the same name. An optional capability:
  /// the defaults return Unimplemented. Every method returns InvalidArgument for a bad id
  /// (ValidateDigestId) or name (ValidatePartialName), and the store's error when it fails.
  /// Starts storing partial `name` of digest `id`.
  [[nodiscard]] virtual Result<PartialUploadPtr> BeginPartial(std::string_view id,
                                                              std::string_view name);
  /// Opens partial `name` of `id`: NotFound when it is not stored.
  [[nodiscard]] virtual Result<ObjectReaderPtr> OpenPartial(std::string_view id,
                                                            std::string_view name);
  /// The names of the stored partials of `id`, sorted (empty when there are none).
  [[nodiscard]] virtual Result<std::vector<std::string>> ListPartials(std::string_view id);
  /// Deletes every partial of `id` (OK when there are none).
  [[nodiscard]] virtual Status DeletePartials(std::string_view id);
  /// Deletes partial `name` of `id` (OK when it is not stored).
  [[nodiscard]] virtual Status DeletePartial(std::string_view id, std::string_view name);
};
using StoragePtr = std::unique_ptr<Storage>;

/// The embedded default: files `<dir>/<id>.log.gz`, `<dir>/<id>.manifest.json` and the rows
/// sidecar `<dir>/<id>.rows.gz`, written to
/// hidden temporary names (`.<id>...tmp`) and renamed into place (manifest first). Renames are
/// atomic; files are not fsync'ed (a digest can be recomputed). The temporary names say which
/// process writes them: at creation and after each upload, temporaries of writers that are gone
/// (a killed process of this host; of another host, unmodified for an hour) are removed, never
/// those of a live writer. Creates `dir` if missing; returns the error naming the directory when
/// it cannot.
Result<StoragePtr> NewFileStorage(std::string dir);

/// Forwards every call to `target` (not owned). Derive to decorate one method.
class StorageWrapper : public Storage {
 public:
  explicit StorageWrapper(Storage* target) : target_(target) {}
  Result<StoredDigest> Get(std::string_view id) override { return target_->Get(id); }
  Result<StoredDigest> GetRows(std::string_view id) override { return target_->GetRows(id); }
  Result<std::string> GetManifest(std::string_view id) override { return target_->GetManifest(id); }
  Result<bool> Exists(std::string_view id) override { return target_->Exists(id); }
  Result<StorageUploadPtr> Begin(std::string_view id) override { return target_->Begin(id); }
  Status Ready() override { return target_->Ready(); }
  std::string Describe() const override { return target_->Describe(); }
  Result<PartialUploadPtr> BeginPartial(std::string_view id, std::string_view name) override {
    return target_->BeginPartial(id, name);
  }
  Result<ObjectReaderPtr> OpenPartial(std::string_view id, std::string_view name) override {
    return target_->OpenPartial(id, name);
  }
  Result<std::vector<std::string>> ListPartials(std::string_view id) override {
    return target_->ListPartials(id);
  }
  Status DeletePartials(std::string_view id) override { return target_->DeletePartials(id); }
  Status DeletePartial(std::string_view id, std::string_view name) override {
    return target_->DeletePartial(id, name);
  }
  Storage* target() const { return target_; }

 private:
  Storage* target_;
};

}  // namespace vpcflow
