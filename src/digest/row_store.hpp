#pragma once
/// The rows of the DigestTable's shards: RowArena hands out fixed-size blocks carved from 2 MiB
/// chunks shared by every shard, and a RowStore (one a shard and row form) appends rows into its
/// blocks. Rows
/// never move, so a row is named by a 32-bit number, the same whatever chunk its block came from.
///
/// The chunks are page blocks (page_blocks.hpp: small pages unless the system's huge-page
/// policy is `always`), touched only where rows are written: a small digest touches the few
/// pages of its rows, and a block is only ever fresh memory once.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/page_blocks.hpp"

namespace vpcflow {

/// Blocks of kBlockBytes for RowStores. Allocate is thread-safe (a mutex); the memory goes with
/// the arena, which must outlive its stores.
class RowArena {
 public:
  static constexpr size_t kBlockBytes = size_t{64} << 10;
  static constexpr size_t kBlocksPerChunk = kHugePageBytes / kBlockBytes;

  RowArena() = default;
  RowArena(const RowArena&) = delete;
  RowArena& operator=(const RowArena&) = delete;
  ~RowArena();

  /// A fresh zeroed block (kBlockBytes, aligned to it). Throws std::bad_alloc when no memory
  /// can be mapped.
  void* Allocate();
  /// Chunks mapped so far.
  size_t chunks() const;

 private:
  mutable std::mutex mu_;
  std::vector<char*> chunks_;
  size_t used_ = kBlocksPerChunk;  // blocks handed out of the last chunk
};

/// The rows of one form (DigestEntry or DigestEntryV4) of one shard, appended in blocks of the
/// arena. Not thread-safe (the shard's lock).
template <typename Row>
class RowStore {
 public:
  static constexpr uint32_t kBlockRows = RowArena::kBlockBytes / sizeof(Row);
  static_assert(RowArena::kBlockBytes % alignof(Row) == 0);

  RowStore() = default;
  RowStore(const RowStore&) = delete;
  RowStore& operator=(const RowStore&) = delete;

  /// Appends a row, in a new block of `arena` when the last is full (the same arena every
  /// time); returns its number (0, 1, ...). Throws std::bad_alloc as RowArena::Allocate.
  uint32_t Push(const Row& e, RowArena& arena) {
    if (size_ % kBlockRows == 0) blocks_.push_back(static_cast<Row*>(arena.Allocate()));
    blocks_.back()[size_ % kBlockRows] = e;
    return size_++;
  }
  Row& operator[](uint32_t i) { return blocks_[i / kBlockRows][i % kBlockRows]; }
  const Row& operator[](uint32_t i) const { return blocks_[i / kBlockRows][i % kBlockRows]; }
  uint32_t size() const { return size_; }

 private:
  std::vector<Row*> blocks_;
  uint32_t size_ = 0;
};

/// A row of either form, as the DigestTable hands it out: a tagged pointer (8 bytes), valid as
/// long as the row's store. Copying it reads no row; its accessors do. Thread-safe to read.
class RowRef {
 public:
  RowRef() = default;
  explicit RowRef(const DigestEntryV4* row) : tagged_(reinterpret_cast<const char*>(row)) {}
  explicit RowRef(const DigestEntry* row) : tagged_(reinterpret_cast<const char*>(row) + kWide) {}

  /// True for the DigestEntry form, false for DigestEntryV4.
  bool wide() const { return (reinterpret_cast<uintptr_t>(tagged_) & kWide) != 0; }
  uint32_t owner() const { return wide() ? as_wide().key.owner : as_narrow().key.owner; }
  const DigestValue& value() const { return wide() ? as_wide().value : as_narrow().value; }
  /// The key in its wide form (a copy).
  DigestKey key() const { return wide() ? as_wide().key : as_narrow().key.Widen(); }
  /// The whole row in the wide form (a copy).
  DigestEntry entry() const { return wide() ? as_wide() : DigestEntry{key(), value()}; }
  /// fn(const DigestEntry&) or fn(const DigestEntryV4&), as the row's form is.
  template <typename Fn>
  decltype(auto) Visit(Fn&& fn) const {
    return wide() ? fn(as_wide()) : fn(as_narrow());
  }
  /// The row's first and last bytes (prefetching both fetches all of a row's cache lines but
  /// the middle of a wide one that spans three).
  const char* first_byte() const { return tagged_ - (wide() ? kWide : 0); }
  const char* last_byte() const {
    return first_byte() + (wide() ? sizeof(DigestEntry) : sizeof(DigestEntryV4)) - 1;
  }

 private:
  static constexpr uintptr_t kWide = 1;
  static_assert(alignof(DigestEntry) > kWide && alignof(DigestEntryV4) > kWide);
  const DigestEntry& as_wide() const {
    return *reinterpret_cast<const DigestEntry*>(tagged_ - kWide);
  }
  const DigestEntryV4& as_narrow() const {
    return *reinterpret_cast<const DigestEntryV4*>(tagged_);
  }

  // The row's address, plus kWide for a wide row (rows are aligned: the bit is free). Kept as a
  // pointer, not an integer, so the compiler still knows what it points into.
  const char* tagged_ = nullptr;
};

}  // namespace vpcflow
