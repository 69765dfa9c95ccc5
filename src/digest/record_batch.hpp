#pragma once
/// RecordBatch: the records of one object, appended as they come, before they are merged into
/// the DigestTable (DigestTable::Merge).

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/owner_interner.hpp"
#include "flowlog/line_parser.hpp"

namespace vpcflow {

class DigestTable;

/// The records of one object: each as a DigestEntry (its owner an id of an interner local to
/// the object) with the hash of its key without the owner (HashKeyBody), so the key is hashed
/// once; DigestTable::Merge finishes the hash with the global owner. Equal keys are not
/// combined here (a per-object table combined few records on the corpora of issue 14, for the
/// cost of a second table; DESIGN.md "Performance"). Memory: 96 bytes a record of the object
/// plus its owners, kept between objects. No locks and no allocation per record once grown.
/// Not thread-safe.
class RecordBatch {
 public:
  RecordBatch() = default;
  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;

  /// Appends one record as it is (the caller has already applied the window and the fold).
  void Add(const FlowRecord& record);
  /// Forgets the records (keeps capacity).
  void Clear();
  /// Records appended since the last Clear.
  size_t size() const { return entries_.size(); }

 private:
  friend class DigestTable;

  std::vector<DigestEntry> entries_;
  std::vector<uint64_t> hashes_;  // HashKeyBody of entries_, same order
  OwnerInterner owners_;
  // The previous record's owner (records of one interface tend to come together).
  uint32_t last_owner_ = UINT32_MAX;
  // Reused by DigestTable::Merge.
  std::vector<uint32_t> merge_order_;
  std::vector<std::pair<uint32_t, uint64_t>> merge_owners_;  // (local id, hash)
};

}  // namespace vpcflow
