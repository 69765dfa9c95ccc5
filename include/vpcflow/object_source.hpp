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
#include <optional>
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

  /// Optional: when the rest of the object is already in memory (a prefetched download), returns
  /// it without a copy and consumes it: a later Read returns 0. The bytes stay valid while the
  /// reader lives. nullopt (the default) when the reader streams: read it with Read.
  virtual std::optional<std::string_view> TakeInMemory() { return std::nullopt; }
};
using ObjectReaderPtr = std::unique_ptr<ObjectReader>;

/// Random access to one object's bytes, pinned to the version that was opened: an object
/// replaced meanwhile makes reads fail with FailedPrecondition (or keep reading the old bytes),
/// never mix two versions. Used by one thread at a time.
class RandomAccessObject {
 public:
  virtual ~RandomAccessObject() = default;
  RandomAccessObject() = default;
  RandomAccessObject(const RandomAccessObject&) = delete;
  RandomAccessObject& operator=(const RandomAccessObject&) = delete;

  /// The object's size in bytes.
  virtual uint64_t size() const = 0;
  /// Reads exactly `out.size()` bytes from `offset`. Returns InvalidArgument when the range
  /// passes the end of the object, FailedPrecondition when the object changed since it was
  /// opened, Unavailable/DataLoss/Internal when the read fails.
  [[nodiscard]] virtual Status ReadAt(uint64_t offset, std::span<char> out) = 0;
};
using RandomAccessObjectPtr = std::unique_ptr<RandomAccessObject>;

/// Random access over bytes in memory (shared, not copied).
RandomAccessObjectPtr NewMemoryRandomAccessObject(std::shared_ptr<const std::string> bytes);

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

  /// Optional: opens `key` for random access (Parquet reads its footer, then only the columns it
  /// needs). `tail_bytes` is a hint: the caller reads the last `tail_bytes` bytes first, so a
  /// remote source may fetch them with the open (S3: one suffix-ranged GET that also tells the
  /// size and the version) and serve reads inside them from memory. Returns NotFound when the
  /// key does not exist; Unimplemented (the default) when the source has no random access:
  /// callers then read the object with Open (OpenRandomAccessOrRead does both).
  [[nodiscard]] virtual Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key,
                                                                       uint64_t tail_bytes) {
    (void)key;
    (void)tail_bytes;
    return UnimplementedError(Describe() + ": no random access");
  }

  /// Optional: a hint that these objects will be opened next, in this order, so a remote source
  /// can download ahead (bounded by its own byte and concurrency limits). Default: ignored.
  virtual void Prefetch(std::span<const ObjectInfo> upcoming) { (void)upcoming; }

  /// A short human description for logs and errors ("dir:/var/flowlogs", "s3://bucket").
  virtual std::string Describe() const = 0;
};
using ObjectSourcePtr = std::unique_ptr<ObjectSource>;

/// A reader of an open file descriptor (a file, a pipe, stdin), which it owns and closes.
/// Read returns the error of read(2) naming `name` (ErrnoStatus).
ObjectReaderPtr NewFdReader(int fd, std::string name);

/// Opens the file at `path` for reading. Returns NotFound when it does not exist, or the error
/// of open(2) naming the path.
Result<ObjectReaderPtr> OpenFileReader(const std::string& path);
/// `source.OpenRandomAccess(key, tail_bytes)`, or, when the source has none (Unimplemented), the
/// whole object read with Open into memory (taken at once when the reader holds it:
/// ObjectReader::TakeInMemory). Returns ResourceExhausted when such an object is larger than
/// `max_read_bytes`, and the source's errors otherwise.
Result<RandomAccessObjectPtr> OpenRandomAccessOrRead(ObjectSource& source, std::string_view key,
                                                     uint64_t tail_bytes, uint64_t max_read_bytes);

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
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key,
                                                 uint64_t tail_bytes) override {
    return target_->OpenRandomAccess(key, tail_bytes);
  }
  Result<uint64_t> Size(std::string_view key) override { return target_->Size(key); }
  void Prefetch(std::span<const ObjectInfo> upcoming) override { target_->Prefetch(upcoming); }
  std::string Describe() const override { return target_->Describe(); }
  ObjectSource* target() const { return target_; }

 private:
  ObjectSource* target_;  // not owned
};

}  // namespace vpcflow
