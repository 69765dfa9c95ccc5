#pragma once
/// MemoryObjectSource: an in-memory bucket for tests, with fault injection.
/// Listing follows S3's ListObjectsV2 exactly (see common/list_page_builder.hpp); continuation
/// tokens are the last key or prefix returned. Thread-safe (one mutex); readers copy nothing:
/// they share the stored bytes, which stay valid even if the key is replaced or removed.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/object_source.hpp"

namespace vpcflow {

/// A reader over shared in-memory bytes (no copy), for fakes that serve objects from memory.
ObjectReaderPtr NewSharedStringReader(std::shared_ptr<const std::string> bytes);

class MemoryObjectSource : public ObjectSource {
 public:
  /// Adds or replaces an object.
  void Put(std::string key, std::string bytes);
  /// Adds an entry that is listed but is not an object (ObjectInfo::problem = `problem`, as a
  /// local directory lists a FIFO): Open and Size answer NotFound.
  void PutNotAnObject(std::string key, std::string problem);
  void Remove(const std::string& key);

  /// Faults: List fails with `status` for every prefix starting with `prefix` ("" = all).
  void FailList(std::string prefix, Status status);
  /// Open/Read of `key` fails: Open with `status` when `on_open`, else the first Read.
  void FailObject(std::string key, Status status, bool on_open = true);
  /// Pages of at most this many entries regardless of max_keys (tests pagination). 0 = off.
  void SetMaxPageSize(int n);

  /// Every ListRequest received, for assertions on what was listed.
  std::vector<ListRequest> list_calls() const;
  /// Every key opened.
  std::vector<std::string> open_calls() const;

  Result<ListPage> List(const ListRequest& request) override;
  Result<ObjectReaderPtr> Open(std::string_view key) override;
  /// Faults set with FailObject apply here too (on open, or to every ReadAt).
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key,
                                                 uint64_t tail_bytes) override;
  Result<uint64_t> Size(std::string_view key) override;
  std::string Describe() const override { return "memory"; }

 private:
  struct Opened {
    std::shared_ptr<const std::string> bytes;
    Status read_fault;  // OK unless reads are to fail
  };
  // Records the open and applies the faults; mu_ held.
  Result<Opened> OpenLocked(std::string_view key);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> objects_;
  std::map<std::string, std::string, std::less<>> not_objects_;  // key -> problem
  std::map<std::string, Status, std::less<>> list_faults_;
  std::map<std::string, std::pair<Status, bool>, std::less<>> object_faults_;
  int max_page_ = 0;
  std::vector<ListRequest> list_calls_;
  std::vector<std::string> open_calls_;
};

}  // namespace vpcflow
