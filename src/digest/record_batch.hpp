#pragma once
/// RecordBatch: the records of one object, appended as they come, before they are merged into
/// the DigestTable (DigestTable::Merge) or, when the object is too large for its share of the
/// memory limit, written part by part as runs in key order (DrainInKeyOrder).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/owner_interner.hpp"
#include "flowlog/line_parser.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

class DigestTable;

/// The records of one object: each as a DigestEntry (its owner an id of an interner local to
/// the object) with the hash of its key without the owner (HashKeyBody), so the key is hashed
/// once; DigestTable::Merge finishes the hash with the global owner. Equal keys are not
/// combined here (a per-object table combined few records on the corpora of issue 14, for the
/// cost of a second table; DESIGN.md "Performance").
///
/// Memory: kRecordBytes a record plus its owners, kept between objects. A batch made with a
/// `max_bytes` never holds more (memory_bytes()): its records' arrays grow to at most 5/8 of it,
/// and it is full() when they are full or when its owners take 1/8 of it (one more owner at most
/// doubles their part; a single owner's strings longer than max_bytes / 8 would be the only
/// excess). The caller empties a full batch (Merge or DrainInKeyOrder) before the next Add.
///
/// No locks and no allocation per record once grown. Not thread-safe.
class RecordBatch {
 public:
  /// Bytes of one record: its entry, its hash and its slot in DigestTable::Merge's order.
  static constexpr size_t kRecordBytes = sizeof(DigestEntry) + sizeof(uint64_t) + sizeof(uint32_t);

  /// A batch without a bound (never full()).
  RecordBatch() = default;
  /// A batch that holds at most `max_bytes` (see the class comment).
  explicit RecordBatch(size_t max_bytes);
  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;

  /// Appends one record as it is (the caller has already applied the window and the fold).
  void Add(const FlowRecord& record);
  /// Appends an aggregate of the owner (`account`, `interface`): `entry`'s key (its owner field
  /// is ignored) and value as they are (a row of a keyed run read back).
  void AddEntry(std::string_view account, std::string_view interface, const DigestEntry& entry);
  /// Forgets the records (keeps capacity).
  void Clear();
  /// Records appended since the last Clear.
  size_t size() const { return entries_.size(); }
  /// Whether the batch must be emptied before the next Add to stay within its max_bytes.
  bool full() const { return entries_.size() >= full_at_; }
  /// The memory the batch holds: its arrays as allocated and its owners.
  size_t memory_bytes() const;

  /// Calls `fn(account, interface, entry)` once for each distinct key of the batch, in the
  /// canonical key order of runs (CompareRowKeys of digest/partial_run.hpp: account, interface,
  /// then the key's bytes without its owner), with the values of its records added
  /// (DigestValue::Add); `entry.key.owner` means nothing to `fn`. Then clears the batch, also
  /// when `fn` fails: returns fn's first error, after which it is not called again. Sorts the
  /// records in place (no memory beyond the batch's own).
  [[nodiscard]] Status DrainInKeyOrder(
      const std::function<Status(std::string_view account, std::string_view interface,
                                 const DigestEntry& entry)>& fn);

 private:
  friend class DigestTable;

  // Makes room for more records: doubles, up to max_records_.
  void Grow();
  // Sets last_owner_ to the local id of (account, interface), interning it when it is not the
  // last record's owner; marks the batch full once the owners take their part.
  void NoteOwner(std::string_view account, std::string_view interface);

  size_t max_records_ = SIZE_MAX;
  size_t max_owner_bytes_ = SIZE_MAX;
  // max_records_, or 0 once the owners took their part: full() is one comparison a record.
  size_t full_at_ = SIZE_MAX;
  // An allocator whose emplace_back() leaves the element uninitialized: Add writes all of its
  // bytes (a DigestEntry is an aggregate of integers, so the storage holds one once written),
  // and value-initializing 88 bytes first was a `rep stos` a record (a quarter of Add's time).
  template <typename T>
  struct UninitializedAllocator : std::allocator<T> {
    template <typename U>
    struct rebind {
      using other = UninitializedAllocator<U>;
    };
    UninitializedAllocator() = default;
    template <typename U>
    UninitializedAllocator(const UninitializedAllocator<U>&) {
    }  // NOLINT(google-explicit-constructor)
    template <typename U>
    void construct(U*) noexcept {}
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  };
  std::vector<DigestEntry, UninitializedAllocator<DigestEntry>> entries_;
  std::vector<uint64_t> hashes_;  // HashKeyBody of entries_, same order
  OwnerInterner owners_;
  // The previous record's owner (records of one interface tend to come together).
  uint32_t last_owner_ = UINT32_MAX;
  // Reused by DigestTable::Merge (merge_order_ is reserved with entries_, so Merge's resize
  // never allocates). DrainInKeyOrder's ranking (4 bytes an owner) lives only while it drains.
  std::vector<uint32_t> merge_order_;
  std::vector<std::pair<uint32_t, uint64_t>> merge_owners_;  // (local id, hash)
};

}  // namespace vpcflow
