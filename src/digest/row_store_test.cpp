#include "digest/row_store.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <vector>

namespace vpcflow {
namespace {

DigestEntry Numbered(uint64_t n) {
  DigestEntry e;
  e.key.srcport = static_cast<uint16_t>(n);
  e.value.packets = n;
  e.value.bytes = ~n;
  return e;
}

// Resident pages of [p, p + bytes) (mincore: the kernel's own account).
size_t ResidentPages(const void* p, size_t bytes) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in_core((bytes + page - 1) / page);
  EXPECT_EQ(mincore(const_cast<void*>(p), bytes, in_core.data()), 0);
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

TEST(RowStoreTest, RowsNeverMoveAndKeepTheirNumbersAcrossChunks) {
  RowArena arena;
  constexpr size_t kStores = 16;
  std::array<RowStore<DigestEntry>, kStores> stores;
  std::array<std::vector<const DigestEntry*>, kStores> addresses;
  // Enough rows for three chunks.
  const size_t rows = 3 * RowArena::kBlocksPerChunk * RowStore<DigestEntry>::kBlockRows;
  for (uint64_t n = 0; n < rows; ++n) {
    RowStore<DigestEntry>& store = stores[n % kStores];
    const uint32_t row = store.Push(Numbered(n), arena);
    ASSERT_EQ(row, addresses[n % kStores].size());
    addresses[n % kStores].push_back(&store[row]);
  }
  EXPECT_EQ(arena.chunks(), 3u);
  for (uint64_t n = 0; n < rows; ++n) {
    const RowStore<DigestEntry>& store = stores[n % kStores];
    const uint32_t row = static_cast<uint32_t>(n / kStores);
    ASSERT_EQ(&store[row], addresses[n % kStores][row]) << n;
    ASSERT_EQ(store[row].value.packets, n);
    ASSERT_EQ(store[row].value.bytes, ~n);
    ASSERT_EQ(store[row].key.srcport, static_cast<uint16_t>(n));
  }
  EXPECT_EQ(stores[0].size(), rows / kStores);
}

TEST(RowStoreTest, NarrowRowsAreWholeCacheLines) {
  RowArena arena;
  RowStore<DigestEntryV4> store;
  static_assert(RowStore<DigestEntryV4>::kBlockRows == 1024);
  for (uint64_t n = 0; n < 3 * RowStore<DigestEntryV4>::kBlockRows; ++n) {
    DigestEntryV4 e;
    e.key.srcport = static_cast<uint16_t>(n);
    e.value.bytes = ~n;
    const uint32_t row = store.Push(e, arena);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(&store[row]) % 64, 0u) << n;
  }
  for (uint32_t row = 0; row < store.size(); ++row) {
    ASSERT_EQ(store[row].key.srcport, static_cast<uint16_t>(row));
    ASSERT_EQ(store[row].value.bytes, ~uint64_t{row});
  }
}

TEST(RowStoreTest, ASmallDigestTouchesAFewPages) {
  RowArena arena;
  std::array<RowStore<DigestEntry>, 16> stores;
  for (uint64_t n = 0; n < 300; ++n) stores[n % stores.size()].Push(Numbered(n), arena);
  ASSERT_EQ(arena.chunks(), 1u);
  // The chunk starts on a huge-page boundary; every store's first block lies in it.
  const auto address = reinterpret_cast<uintptr_t>(&stores[0][0]);
  const auto* chunk = reinterpret_cast<const char*>(address & ~(kHugePageBytes - 1));
  // One page of each store's block (19 rows of 88 bytes), not the whole 2 MiB chunk.
  EXPECT_LE(ResidentPages(chunk, kHugePageBytes), 2 * stores.size());
  EXPECT_GE(ResidentPages(chunk, kHugePageBytes), stores.size());
}

}  // namespace
}  // namespace vpcflow
