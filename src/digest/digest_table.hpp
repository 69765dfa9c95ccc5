#pragma once
/// The aggregation behind a digest: compact keys, per-object partial tables, and the shared
/// sharded table they merge into (DESIGN.md digest rules 6-7).
///
/// Memory is proportional to the number of distinct keys, and small per key: a row is 88 bytes
/// (addresses in binary, the account and interface interned together as one 32-bit "owner"),
/// stored densely in 2 MiB blocks, plus one or two 8-byte slots of an open-addressing index. The
/// shared table has kShardCount shards with a mutex each, so workers merge into it concurrently
/// and a growing index never copies more than one shard. About 140 bytes per key at the peak
/// (Finish's sort included; `make bench`: 1.55 M keys in 216 MB).
///
/// The tables are mostly cache misses (hundreds of MB read at random), so they use huge pages
/// where the kernel grants them and look keys up in batches of independent loads (see
/// DigestTable::MergeShard); the hash tables are written here for that reason rather than taken
/// from Abseil.
///
/// Threading: DigestTable's InternOwner and Merge may be called from any thread; Finish once,
/// after every merge; the read accessors only after Finish. A PartialDigest belongs to one thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "flowlog/line_parser.hpp"

namespace vpcflow {

/// 64x64 -> 128-bit multiply, folded (the mixing step of wyhash).
inline uint64_t MixWords(uint64_t a, uint64_t b) {
  const unsigned __int128 m = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

/// Large allocations for tables read at random: whole 2 MiB pages, aligned, and advised to be
/// transparent huge pages. On these (virtual) machines a TLB miss walks two page tables, so huge
/// pages nearly halve the cost of a cache miss into a table of hundreds of MB.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;
/// Maps `bytes` (a multiple of kHugePageBytes) of zeroed memory; null when out of memory.
void* AllocateHugePages(size_t bytes, bool advise_huge);
void FreeHugePages(void* p, size_t bytes);

/// An allocator that uses AllocateHugePages for blocks of at least kHugePageBytes (rounded up
/// to whole pages) and operator new below that.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  static size_t Rounded(size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    void* p = AllocateHugePages(Rounded(bytes), true);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      ::operator delete(p);
    } else {
      FreeHugePages(p, Rounded(bytes));
    }
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

/// One conversation key. Trivially copyable, compared and hashed as its 48 bytes (the padding is
/// always zero).
struct DigestKey {
  std::array<uint8_t, 16> src{};  ///< IpAddress::bytes
  std::array<uint8_t, 16> dst{};
  uint32_t owner = 0;  ///< interned (account-id, interface-id), see OwnerInterner
  uint16_t srcport = 0;
  uint16_t dstport = 0;
  uint8_t protocol = 0;
  uint8_t flags = 0;  ///< bits 0-1 Action, bit 2 src is IPv4, bit 3 dst is IPv4
  std::array<uint8_t, 6> padding{};

  static constexpr uint8_t kSrcV4 = 4;
  static constexpr uint8_t kDstV4 = 8;
  /// The flags of a key with this action and address families.
  static uint8_t Flags(Action action, bool src_v4, bool dst_v4) {
    return static_cast<uint8_t>(static_cast<uint8_t>(action) | (src_v4 ? kSrcV4 : 0) |
                                (dst_v4 ? kDstV4 : 0));
  }
  Action action() const { return static_cast<Action>(flags & 3); }
  IpAddress srcaddr() const { return IpAddress{src, (flags & kSrcV4) != 0}; }
  IpAddress dstaddr() const { return IpAddress{dst, (flags & kDstV4) != 0}; }

  friend bool operator==(const DigestKey& a, const DigestKey& b) {
    uint64_t wa[6], wb[6];
    std::memcpy(wa, &a, sizeof(wa));
    std::memcpy(wb, &b, sizeof(wb));
    return ((wa[0] ^ wb[0]) | (wa[1] ^ wb[1]) | (wa[2] ^ wb[2]) | (wa[3] ^ wb[3]) |
            (wa[4] ^ wb[4]) | (wa[5] ^ wb[5])) == 0;
  }
};
static_assert(sizeof(DigestKey) == 48);

/// The key of a record whose (account-id, interface-id) the caller interned as `owner`.
inline DigestKey MakeDigestKey(const FlowRecord& record, uint32_t owner) {
  DigestKey key;
  key.src = record.srcaddr.bytes;
  key.dst = record.dstaddr.bytes;
  key.owner = owner;
  key.srcport = record.srcport;
  key.dstport = record.dstport;
  key.protocol = record.protocol;
  key.flags = DigestKey::Flags(record.action, record.srcaddr.v4, record.dstaddr.v4);
  return key;
}

/// A fast, well-mixed 64-bit hash of the key's bytes.
inline uint64_t HashDigestKey(const DigestKey& key) {
  uint64_t w[6];
  std::memcpy(w, &key, sizeof(w));
  const uint64_t h = MixWords(w[0] ^ 0xa0761d6478bd642fULL, w[1] ^ 0xe7037ed1a0b428dbULL) ^
                     MixWords(w[2] ^ 0x8ebc6af09c88c6e3ULL, w[3] ^ 0x589965cc75374cc3ULL) ^
                     MixWords(w[4] ^ 0x1d8e4e27c47d124fULL, w[5] ^ 0x9e3779b97f4a7c15ULL);
  return MixWords(h, 0xbf58476d1ce4e5b9ULL);
}

/// The aggregate of one key.
struct DigestValue {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;  ///< records aggregated
  int64_t start = 0;   ///< min start
  int64_t end = 0;     ///< max end

  /// Adds another aggregate of the same key.
  void Add(const DigestValue& other) {
    packets += other.packets;
    bytes += other.bytes;
    flows += other.flows;
    if (other.start < start) start = other.start;
    if (other.end > end) end = other.end;
  }
};

/// One row of the digest.
struct DigestEntry {
  DigestKey key;
  DigestValue value;
};
static_assert(sizeof(DigestEntry) == 88);

/// The hash of an (account, interface) pair.
uint64_t HashOwner(std::string_view account, std::string_view interface);

/// Interns (account, interface) pairs. An id is the offset of the pair's record in one arena
/// (so reading a pair back is one memory access), and each record carries a 32-bit `extra`
/// slot for its user. Not thread-safe.
class OwnerInterner {
 public:
  OwnerInterner();

  /// The id of the pair, adding it when new. `hash` must be HashOwner(account, interface).
  uint32_t Intern(std::string_view account, std::string_view interface, uint64_t hash);
  std::string_view account(uint32_t id) const {
    return std::string_view(arena_.data() + id + sizeof(Header), header(id).account_size);
  }
  std::string_view interface(uint32_t id) const {
    const Header h = header(id);
    return std::string_view(arena_.data() + id + sizeof(Header) + h.account_size, h.interface_size);
  }
  /// Whether `id` is the pair (account, interface).
  bool Is(uint32_t id, std::string_view account, std::string_view interface) const {
    const Header h = header(id);
    const char* p = arena_.data() + id + sizeof(Header);
    return h.account_size == account.size() && h.interface_size == interface.size() &&
           std::memcmp(p, account.data(), account.size()) == 0 &&
           std::memcmp(p + account.size(), interface.data(), interface.size()) == 0;
  }
  uint32_t extra(uint32_t id) const { return header(id).extra; }
  void set_extra(uint32_t id, uint32_t value) {
    std::memcpy(arena_.data() + id + offsetof(Header, extra), &value, sizeof(value));
  }

  size_t size() const { return count_; }
  /// Iteration over ids in insertion order: for (id = 0; id < end_id(); id = next_id(id)).
  uint32_t end_id() const { return static_cast<uint32_t>(arena_.size()); }
  uint32_t next_id(uint32_t id) const;
  /// The slot where interning a pair with this hash starts (loading it warms the cache).
  uint32_t FirstSlot(uint64_t hash) const { return slots_[hash & mask_].first; }
  /// Forgets every pair, keeping the memory.
  void Clear();

 private:
  struct Header {
    uint32_t account_size;
    uint32_t interface_size;
    uint32_t extra;
  };
  Header header(uint32_t id) const {
    Header h;
    std::memcpy(&h, arena_.data() + id, sizeof(h));
    return h;
  }
  void Grow();

  // Records: Header, account, interface, padded to 4 bytes.
  std::vector<char, HugePageAllocator<char>> arena_;
  // {id + 1 (0 = empty), hash >> 32}
  std::vector<std::pair<uint32_t, uint32_t>, HugePageAllocator<std::pair<uint32_t, uint32_t>>>
      slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

class DigestTable;

/// The aggregate of one object, before it is merged: an open-addressing table and an owner
/// interner local to the object, both keeping their memory between objects. No locks and no
/// allocation per record. Not thread-safe.
class PartialDigest {
 public:
  PartialDigest();
  PartialDigest(const PartialDigest&) = delete;
  PartialDigest& operator=(const PartialDigest&) = delete;

  /// Aggregates one record as it is (the caller has already applied the window and the fold).
  void Add(const FlowRecord& record);
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
  friend class DigestTable;
  void Rehash(size_t capacity);

  // Small for an object; large when a query groups millions of rows: huge pages then, as the
  // global table's (a group_by of 1.5 M groups ran 1.6x slower without).
  std::vector<DigestEntry, HugePageAllocator<DigestEntry>> entries_;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> hashes_;  // of entries_, same order
  // Open addressing, linear probing: {entry index + 1 (0 = empty), hash >> 32}.
  std::vector<std::pair<uint32_t, uint32_t>, HugePageAllocator<std::pair<uint32_t, uint32_t>>>
      slots_;
  size_t mask_ = 0;
  OwnerInterner owners_;
  // The previous record's owner (records of one interface tend to come together).
  uint32_t last_owner_ = UINT32_MAX;
  // Reused by DigestTable::Merge.
  std::vector<uint32_t> merge_order_;
  std::vector<std::pair<uint32_t, uint64_t>> merge_owners_;  // (local id, hash)
};

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

  /// Adds every entry of `partial` and clears it. Thread-safe: takes the owner lock once and
  /// each shard's lock once.
  void Merge(PartialDigest& partial);

  /// Ends building: orders the rows by bytes descending (ties stay in an unspecified order; the
  /// encoders break them by the text of the flowlog line) and frees the hash indexes.
  void Finish();

  /// Rows (valid after Finish).
  size_t size() const { return order_.size(); }
  /// The i-th row by bytes descending (ties unordered). Valid after Finish.
  const DigestEntry& row(size_t i) const { return *order_[i].second; }
  uint64_t row_bytes(size_t i) const { return order_[i].first; }
  std::string_view account_id(uint32_t owner) const { return owners_.account(owner); }
  std::string_view interface_id(uint32_t owner) const { return owners_.interface(owner); }
  size_t owner_count() const { return owners_.size(); }

 private:
  // Rows in blocks of 2 MiB that never move, so an index slot names a row by a 32-bit number.
  // The first block of a shard uses small pages (a small digest stays small).
  class RowStore {
   public:
    static constexpr uint32_t kBlockRows = kHugePageBytes / sizeof(DigestEntry);
    RowStore() = default;
    RowStore(const RowStore&) = delete;
    RowStore& operator=(const RowStore&) = delete;
    ~RowStore();
    uint32_t Push(const DigestEntry& e);
    DigestEntry& operator[](uint32_t i) { return blocks_[i / kBlockRows][i % kBlockRows]; }
    const DigestEntry& operator[](uint32_t i) const {
      return blocks_[i / kBlockRows][i % kBlockRows];
    }
    uint32_t size() const { return size_; }

   private:
    std::vector<DigestEntry*> blocks_;
    uint32_t size_ = 0;
  };

  // The rows of a shard by hash: open addressing with linear probing over 8-byte slots that
  // hold 32 bits of the hash and the row number + 1 (0 = empty), at most half full. Eight slots
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
    /// Frees the memory (the index is empty afterwards).
    void Release() {
      decltype(slots_)().swap(slots_);
      Resize(kMinCapacity);
      size_ = 0;
    }

   private:
    static constexpr size_t kMinCapacity = 1024;
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

    std::vector<uint64_t, HugePageAllocator<uint64_t>> slots_;
    size_t mask_ = 0;
    int shift_ = 32;
    size_t size_ = 0;
  };

  struct alignas(64) Shard {
    std::mutex mu;
    RowStore rows;
    RowIndex index;
  };

  void MergeShard(Shard& shard, const DigestEntry* entries, const uint64_t* hashes,
                  const uint32_t* order, size_t count);

  std::mutex owners_mu_;
  OwnerInterner owners_;
  std::unique_ptr<Shard[]> shards_;
  std::vector<std::pair<uint64_t, const DigestEntry*>> order_;  // (bytes, row), bytes descending
};

}  // namespace vpcflow
