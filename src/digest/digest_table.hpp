#pragma once
/// DigestTable: the shared, sharded aggregate of a digest run, into which the per-object
/// RecordBatches merge (DESIGN.md digest rules 6-7). Its parts, one file each: the key and value
/// (digest_key.hpp), the owner interner (owner_interner.hpp), an object's records
/// (record_batch.hpp), the rows (row_store.hpp) and the page blocks (page_blocks.hpp).
///
/// Memory is proportional to the number of distinct keys, and small per key: a row is 64 bytes
/// (one cache line) when both its addresses are IPv4 (DigestEntryV4), else 88 (DigestEntry)
/// (addresses in binary, the account and interface interned together as one 32-bit "owner"),
/// stored densely in blocks that never move (row_store.hpp), plus one or two 8-byte slots of an
/// open-addressing index. The shared table has kShardCount shards with a mutex each, so workers
/// merge into it concurrently and a growing index never copies more than one shard. Finish frees
/// the indexes and fills one 16-byte (bytes, row) array already bucketed by bytes, then sorts
/// its buckets in place, so its peak is the rows plus that array.
///
/// The tables are mostly cache misses (hundreds of MB read at random), so they live in page
/// blocks given back whole when freed (page_blocks.hpp) and look keys up in batches of
/// independent loads (see
/// DigestTable::MergeShard); the hash tables are written here for that reason rather than taken
/// from a library.
///
/// Threading: DigestTable's InternOwner and Merge may be called from any thread; Finish once,
/// after every merge; the read accessors only after Finish. A RecordBatch belongs to one thread.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/owner_interner.hpp"
#include "digest/page_blocks.hpp"
#include "digest/record_batch.hpp"
#include "digest/row_store.hpp"
#include "flowlog/line_parser.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// The shared aggregate of a digest run, then (after Finish) its rows in output order.
class DigestTable {
 public:
  static constexpr int kShardBits = 4;
  static constexpr size_t kShardCount = size_t{1} << kShardBits;

  DigestTable();
  ~DigestTable();
  DigestTable(const DigestTable&) = delete;
  DigestTable& operator=(const DigestTable&) = delete;

  /// The id of an (account-id, interface-id) pair. Thread-safe (one mutex).
  uint32_t InternOwner(std::string_view account, std::string_view interface);

  /// Adds every record of `batch` (records of equal keys combine) and clears it. Thread-safe:
  /// takes the owner lock once and each shard's lock once.
  void Merge(RecordBatch& batch);

  /// An estimate of the memory the table holds (rows, indexes, owners), in bytes, counting only
  /// what was filled. Thread-safe; exact between merges.
  size_t memory_bytes() const { return memory_bytes_.load(std::memory_order_relaxed); }
  /// Rows so far (before Finish: thread-safe, exact between merges).
  size_t rows_added() const { return rows_added_.load(std::memory_order_relaxed); }

  /// Ends building for a spill: frees the indexes and calls `fn` with every row in canonical key
  /// order (account, interface, then the key's bytes with the owner zero: CompareRowKeys of
  /// digest/partial_run.hpp), stopping at its first error, which it returns. The owner strings
  /// are account_id()/interface_id(). Only those accessors may be called afterwards.
  /// `fn` sees each row in its wide form (a copy).
  [[nodiscard]] Status ForEachInKeyOrder(const std::function<Status(const DigestEntry&)>& fn);

  /// Ends building: orders the rows by bytes descending (ties stay in an unspecified order; the
  /// encoders break them by the text of the flowlog line) and frees the hash indexes. The
  /// ordering (three passes over the rows, then the sort of each first-digit bucket) runs on up
  /// to `threads` threads (the caller's included).
  void Finish(int threads = 1);

  /// Rows (valid after Finish).
  size_t size() const { return order_.size(); }
  /// The i-th row by bytes descending (ties unordered). Valid after Finish, as long as the table.
  RowRef row(size_t i) const { return order_[i].second; }
  uint64_t row_bytes(size_t i) const { return order_[i].first; }
  std::string_view account_id(uint32_t owner) const { return owners_.account(owner); }
  std::string_view interface_id(uint32_t owner) const { return owners_.interface(owner); }
  /// The owner's place among all owners in the byte order of "account interface " (how a
  /// flowlog line spells them after its "2 "). When owner_ranks_order_lines() (no account or
  /// interface holds a space), lines of different owners compare as their ranks do. Valid
  /// after Finish.
  uint32_t owner_rank(uint32_t owner) const { return owners_.extra(owner); }
  bool owner_ranks_order_lines() const { return owner_ranks_order_lines_; }

 private:
  // The rows of a shard by hash: open addressing with linear probing over 8-byte slots that
  // hold 32 bits of the hash and the row id + 1 (0 = empty), at most half full. Eight slots
  // share a cache line, so a lookup is usually one miss, and growing never reads a row.
  class RowIndex {
   public:
    static constexpr uint32_t kNone = UINT32_MAX;
    RowIndex() { Resize(kMinCapacity); }
    /// The slot where a lookup of these hash bits starts (loading it warms the cache).
    uint64_t FirstSlot(uint32_t hash32) const { return slots_[Position(hash32)]; }
    /// The first row whose slot carries these hash bits, or kNone. Reads no row.
    uint32_t FindCandidate(uint32_t hash32) const {
      for (size_t pos = Position(hash32);; pos = (pos + 1) & mask_) {
        const uint64_t slot = slots_[pos];
        if (slot == 0) return kNone;
        if ((slot >> 32) == hash32) return static_cast<uint32_t>(slot) - 1;
      }
    }
    /// The row with these hash bits for which `is_key(row)` holds, or kNone.
    template <typename IsKey>
    uint32_t Find(uint32_t hash32, IsKey&& is_key) const {
      for (size_t pos = Position(hash32);; pos = (pos + 1) & mask_) {
        const uint64_t slot = slots_[pos];
        if (slot == 0) return kNone;
        const uint32_t row = static_cast<uint32_t>(slot) - 1;
        if ((slot >> 32) == hash32 && is_key(row)) return row;
      }
    }
    /// Adds a row that is not in the index yet.
    void Insert(uint32_t hash32, uint32_t row) {
      if ((size_ + 1) * 2 > slots_.size()) Resize(slots_.size() * 2);
      Place(uint64_t{hash32} << 32 | (uint64_t{row} + 1));
      ++size_;
    }
    /// Bytes of the slots (as mapped: whole 2 MiB blocks from kHugeBytes).
    size_t bytes() const { return Slots::allocator_type::MappedBytes(slots_.size()); }
    /// Frees the memory (the index is empty afterwards).
    void Release() {
      decltype(slots_)().swap(slots_);
      Resize(kMinCapacity);
      size_ = 0;
    }

   private:
    static constexpr size_t kMinCapacity = 1024;
    // From 512 KiB (the 64 k slots of a shard of 16 k rows or more) the slots are a page block,
    // unmapped when the index doubles or is released; a small digest's index is on the heap.
    static constexpr size_t kHugeBytes = size_t{512} << 10;
    using Slots = std::vector<uint64_t, PageBlockAllocator<uint64_t, kHugeBytes>>;
    // Multiplicative hashing of the 32 bits: the top bits of the product pick the position.
    size_t Position(uint32_t hash32) const {
      return static_cast<uint32_t>(hash32 * 0x9e3779b1u) >> shift_;
    }
    void Place(uint64_t slot) {
      size_t pos = Position(static_cast<uint32_t>(slot >> 32));
      while (slots_[pos] != 0) pos = (pos + 1) & mask_;
      slots_[pos] = slot;
    }
    void Resize(size_t capacity);

    Slots slots_;
    size_t mask_ = 0;
    int shift_ = 32;
    size_t size_ = 0;
  };

  // A row id: the row's number in its shard's narrow store, or kWideRow | its number in the
  // wide store.
  static constexpr uint32_t kWideRow = uint32_t{1} << 31;

  struct alignas(64) Shard {
    std::mutex mu;
    RowStore<DigestEntryV4> narrow;  // keys for which DigestKeyV4::Fits holds
    RowStore<DigestEntry> wide;      // the others
    RowIndex index;

    size_t rows() const { return size_t{narrow.size()} + wide.size(); }
    RowRef row(uint32_t id) const {
      return (id & kWideRow) != 0 ? RowRef(&wide[id & ~kWideRow]) : RowRef(&narrow[id]);
    }
  };

  void MergeShard(Shard& shard, const DigestEntry* entries, const uint64_t* hashes,
                  const uint32_t* order, size_t count);
  // Calls fn(RowRef) for the rows [begin, end) of the table's row sequence: shard by shard,
  // each shard's narrow rows then its wide ones.
  template <typename Fn>
  void ForEachRowIn(size_t begin, size_t end, Fn&& fn) const {
    size_t at = 0;  // the shard's first row in the sequence
    for (size_t s = 0; s < kShardCount && at < end; ++s) {
      const Shard& shard = shards_[s];
      const size_t narrow = shard.narrow.size();
      const size_t from = begin > at ? begin - at : 0;
      const size_t to = std::min(shard.rows(), end - at);
      for (size_t i = from; i < std::min(to, narrow); ++i) {
        fn(RowRef(&shard.narrow[static_cast<uint32_t>(i)]));
      }
      for (size_t i = std::max(from, narrow); i < to; ++i) {
        fn(RowRef(&shard.wide[static_cast<uint32_t>(i - narrow)]));
      }
      at += shard.rows();
    }
  }
  // Calls fn(RowRef) for every row of every shard.
  template <typename Fn>
  void ForEachRow(Fn&& fn) const {
    ForEachRowIn(0, SIZE_MAX, fn);
  }
  size_t ShardBytes(const Shard& shard) const;
  // Sets every owner's extra slot to its owner_rank.
  void RankOwners();

  std::atomic<size_t> memory_bytes_{0};
  std::atomic<size_t> rows_added_{0};
  size_t owner_bytes_ = 0;  // guarded by owners_mu_

  std::mutex owners_mu_;
  OwnerInterner owners_;
  RowArena arena_;  // the shards' rows (before shards_: it outlives them)
  std::unique_ptr<Shard[]> shards_;
  // (bytes, row), bytes descending (digest/radix_sort.hpp). 16 bytes a row (30 MB for 1.9 M
  // rows), in a page block.
  PageArray<std::pair<uint64_t, RowRef>> order_;
  bool owner_ranks_order_lines_ = false;
};

}  // namespace vpcflow
