#pragma once
/// The rows of the DigestTable's shards: RowArena hands out fixed-size blocks carved from 2 MiB
/// chunks shared by every shard, and a RowStore (one a shard) appends rows into its blocks. Rows
/// never move, so a row is named by a 32-bit number, the same whatever chunk its block came from.
///
/// Page faults are expensive here (a first touch of a 4 KiB page costs ~14 us on these virtual
/// machines): the arena's first chunk is on small pages, so a small digest touches only the
/// pages of its few rows; every later chunk is advised huge (one fault a 2 MiB chunk). A large
/// digest so takes about 512 small-page faults for its rows, not one a 4 KiB of every shard's
/// first block.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "digest/digest_key.hpp"
#include "digest/huge_pages.hpp"

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
  /// Chunks mapped so far (the first on small pages, the others advised huge).
  size_t chunks() const;

 private:
  mutable std::mutex mu_;
  std::vector<char*> chunks_;
  size_t used_ = kBlocksPerChunk;  // blocks handed out of the last chunk
};

/// The rows of one shard, appended in blocks of the arena. Not thread-safe (the shard's lock).
class RowStore {
 public:
  static constexpr uint32_t kBlockRows = RowArena::kBlockBytes / sizeof(DigestEntry);

  RowStore() = default;
  RowStore(const RowStore&) = delete;
  RowStore& operator=(const RowStore&) = delete;

  /// Appends a row, in a new block of `arena` when the last is full (the same arena every
  /// time); returns its number (0, 1, ...). Throws std::bad_alloc as RowArena::Allocate.
  uint32_t Push(const DigestEntry& e, RowArena& arena) {
    if (size_ % kBlockRows == 0) blocks_.push_back(static_cast<DigestEntry*>(arena.Allocate()));
    blocks_.back()[size_ % kBlockRows] = e;
    return size_++;
  }
  DigestEntry& operator[](uint32_t i) { return blocks_[i / kBlockRows][i % kBlockRows]; }
  const DigestEntry& operator[](uint32_t i) const {
    return blocks_[i / kBlockRows][i % kBlockRows];
  }
  uint32_t size() const { return size_; }

 private:
  std::vector<DigestEntry*> blocks_;
  uint32_t size_ = 0;
};

}  // namespace vpcflow
