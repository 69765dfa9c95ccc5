#pragma once
/// PartialDigest: a table of DigestEntries by key, local to one thread (the query layer's group
/// table).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/owner_interner.hpp"
#include "digest/page_blocks.hpp"
#include "flowlog/line_parser.hpp"

namespace vpcflow {

/// Entries aggregated by key: an open-addressing table and an owner interner, both keeping their
/// memory when cleared. No locks and no allocation per entry once grown. Not thread-safe.
class PartialDigest {
 public:
  PartialDigest();
  PartialDigest(const PartialDigest&) = delete;
  PartialDigest& operator=(const PartialDigest&) = delete;

  /// Aggregates an entry whose key the caller built (its owner from InternOwner): adds its value
  /// to the entry of the same key (DigestValue::Add), or appends it. Returns the entry's index
  /// in entries(). The query layer groups rows with it.
  size_t AddEntry(const DigestEntry& entry);
  /// AddEntry with the key's hash (HashDigestKey) computed by the caller.
  size_t AddEntry(const DigestEntry& entry, uint64_t hash);
  /// Hints that an entry of key hash `hash` is added soon, so that a caller adding many can
  /// overlap the table's cache misses: PrefetchSlot loads its first slot; PrefetchEntry, once
  /// that slot is loaded, the entry it names. They change nothing.
  void PrefetchSlot(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }
  void PrefetchEntry(uint64_t hash) const {
    const uint32_t index = slots_[hash & mask_].first;
    if (index != 0) __builtin_prefetch(&entries_[index - 1]);
  }
  /// The index in entries() of the entry of `key`, or -1.
  int64_t Find(const DigestKey& key) const;
  /// The id of (account, interface) in owners(), for AddEntry's keys.
  uint32_t InternOwner(std::string_view account, std::string_view interface) {
    return owners_.Intern(account, interface, HashOwner(account, interface));
  }
  /// Reserves room for `entries` entries without moving them as the table grows. The room is
  /// mapped, not touched (page blocks come from mmap), so it costs address space, not
  /// resident memory, until used. Throws std::bad_alloc when the room cannot be mapped.
  void Reserve(size_t entries) {
    entries_.reserve(entries);
    hashes_.reserve(entries);
  }
  /// Forgets the records (keeps capacity).
  void Clear();
  /// Distinct keys so far.
  size_t size() const { return entries_.size(); }
  /// The entries (owners are ids of owners()).
  const std::vector<DigestEntry, HugePageAllocator<DigestEntry>>& entries() const {
    return entries_;
  }
  const OwnerInterner& owners() const { return owners_; }

 private:
  void Rehash(size_t capacity);

  // Small for an object; large when a query groups millions of rows: huge pages then
  // (page_blocks.hpp: a group_by over high's digest ran ~10% slower on small pages).
  std::vector<DigestEntry, HugePageAllocator<DigestEntry>> entries_;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> hashes_;  // of entries_, same order
  // Open addressing, linear probing: {entry index + 1 (0 = empty), hash >> 32}.
  std::vector<std::pair<uint32_t, uint32_t>, HugePageAllocator<std::pair<uint32_t, uint32_t>>>
      slots_;
  size_t mask_ = 0;
  OwnerInterner owners_;
};

}  // namespace vpcflow
