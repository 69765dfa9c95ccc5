#pragma once
/// ObjectSource: where flow-log objects are read from (a bucket, or a directory laid out like one).
///
/// The model is S3's: flat keys with '/' as the conventional separator, listed in UTF-8 binary
/// order in pages, with an optional delimiter that rolls deeper keys up into common prefixes.
/// Implementations must be safe to call from several threads at once (the digest engine opens
/// objects from every worker thread); an ObjectReader is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// One object as listed.
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  /// Empty for an object. Otherwise the key names something that exists but cannot be read as
  /// an object, and why ("a FIFO", "a dangling symbolic link", ...): a local source lists such
  /// entries (size 0) so that callers can report them; opening them fails with NotFound.
  std::string problem{};
  friend bool operator==(const ObjectInfo&, const ObjectInfo&) = default;
};

/// A ListObjectsV2-shaped request.
struct ListRequest {
  // `{}` initializers let callers use designated initializers without GCC's
  // -Wmissing-field-initializers.
  std::string prefix{};              ///< only keys starting with this
  std::string delimiter{};           ///< "" = no roll-up; "/" = one folder level
  std::string start_after{};         ///< only keys strictly after this (first page)
  std::string continuation_token{};  ///< from the previous page's next_token
  int max_keys = 1000;               ///< page size; objects + prefixes per page at most this
};

/// One page of a listing. Keys and prefixes are in ascending byte order.
struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;  ///< each ends with the delimiter
  std::string next_token;                    ///< empty when this is the last page
};

/// A streaming reader of one object's bytes.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  ObjectReader() = default;
  ObjectReader(const ObjectReader&) = delete;
  ObjectReader& operator=(const ObjectReader&) = delete;

  /// Reads up to `buffer.size()` bytes. Returns the count read, 0 only at the end of the object.
  /// Returns Unavailable/DataLoss/Internal when the read fails (the object is then unusable).
  [[nodiscard]] virtual Result<size_t> Read(std::span<char> buffer) = 0;
};
using ObjectReaderPtr = std::unique_ptr<ObjectReader>;

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  ObjectSource() = default;
  ObjectSource(const ObjectSource&) = delete;
  ObjectSource& operator=(const ObjectSource&) = delete;

  /// Lists one page. Returns Unavailable when the store cannot be reached, PermissionDenied when
  /// refused, NotFound when the bucket or root does not exist; a prefix with no keys is an empty
  /// page, not an error.
  [[nodiscard]] virtual Result<ListPage> List(const ListRequest& request) = 0;

  /// Opens an object for streaming. Returns NotFound when the key does not exist.
  [[nodiscard]] virtual Result<ObjectReaderPtr> Open(std::string_view key) = 0;

  /// The object's size in bytes. Returns NotFound when the key does not exist.
  [[nodiscard]] virtual Result<uint64_t> Size(std::string_view key) = 0;

  /// Optional: a hint that these objects will be opened next, in this order, so a remote source
  /// can download ahead (bounded by its own byte and concurrency limits). Default: ignored.
  virtual void Prefetch(std::span<const ObjectInfo> upcoming) { (void)upcoming; }

  /// A short human description for logs and errors ("dir:/var/flowlogs", "s3://bucket").
  virtual std::string Describe() const = 0;
};
using ObjectSourcePtr = std::unique_ptr<ObjectSource>;

/// Lists every page of `request` (following continuation tokens) into one page.
Result<ListPage> ListAll(ObjectSource& source, ListRequest request);

/// Options of NewLocalDirSource.
struct LocalDirOptions {
  /// Follow symbolic links whose target lies outside the root (VPC_FLOW_LOGS_FOLLOW_LINKS,
  /// --follow-links). Links that stay inside the root are always followed.
  bool follow_links = false;
};

/// The embedded default: a directory laid out like the bucket (key "a/b/c" is file root/a/b/c).
/// Files and directories whose names start with '.' are not listed (temporary files).
/// Entries that are not regular files or directories are listed with ObjectInfo::problem set
/// and never opened: FIFOs, sockets, devices, dangling links, link loops (a link to a folder
/// that contains it), and, unless `options.follow_links`, links whose target lies outside the
/// root (compared after resolving every link, the root's own included). An empty folder lists
/// nothing. Open() and Size() answer NotFound for those entries too, and never block.
/// Returns NotFound when `root` is not a directory.
Result<ObjectSourcePtr> NewLocalDirSource(std::string root, LocalDirOptions options = {});

/// Wraps a source; every call forwards to `target`. Derive from it to decorate one method.
class ObjectSourceWrapper : public ObjectSource {
 public:
  explicit ObjectSourceWrapper(ObjectSource* target) : target_(target) {}
  Result<ListPage> List(const ListRequest& request) override { return target_->List(request); }
  Result<ObjectReaderPtr> Open(std::string_view key) override { return target_->Open(key); }
  Result<uint64_t> Size(std::string_view key) override { return target_->Size(key); }
  void Prefetch(std::span<const ObjectInfo> upcoming) override { target_->Prefetch(upcoming); }
  std::string Describe() const override { return target_->Describe(); }
  ObjectSource* target() const { return target_; }

 private:
  ObjectSource* target_;  // not owned
};

}  // namespace vpcflow
