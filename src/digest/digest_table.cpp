#include "digest/digest_table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdint>

#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

constexpr size_t kMinPartialCapacity = 1024;
constexpr size_t kMinOwnerCapacity = 256;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// wyhash-style: short strings as two (overlapping) loads, longer ones 16 bytes at a time.
uint64_t HashBytes(std::string_view s, uint64_t seed) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t a = 0;
  uint64_t b = 0;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      a = uint64_t{static_cast<uint8_t>(p[0])} << 16 |
          uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8 | static_cast<uint8_t>(p[n - 1]);
    }
  } else {
    size_t i = 0;
    for (; i + 16 < n; i += 16) {
      seed = MixWords(Load64(p + i) ^ 0xa0761d6478bd642fULL, Load64(p + i + 8) ^ seed);
    }
    a = Load64(p + n - 16);
    b = Load64(p + n - 8);
  }
  return MixWords(a ^ 0xe7037ed1a0b428dbULL ^ n, b ^ seed);
}

}  // namespace

void* AllocateHugePages(size_t bytes, bool advise_huge) {
  // Map one page more than asked and trim, so the block starts on a huge-page boundary.
  const size_t mapped = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + mapped;
  if (end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  void* p = reinterpret_cast<void*>(aligned);
  if (advise_huge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
  return p;
}

void FreeHugePages(void* p, size_t bytes) { munmap(p, bytes); }

uint64_t HashOwner(std::string_view account, std::string_view interface) {
  return HashBytes(interface, HashBytes(account, 0x2d358dccaa6c78a5ULL));
}

OwnerInterner::OwnerInterner() : slots_(kMinOwnerCapacity, {0, 0}), mask_(kMinOwnerCapacity - 1) {}

uint32_t OwnerInterner::next_id(uint32_t id) const {
  const Header h = header(id);
  const size_t size = sizeof(Header) + h.account_size + h.interface_size;
  return static_cast<uint32_t>(id + ((size + 3) & ~size_t{3}));
}

uint32_t OwnerInterner::Intern(std::string_view account, std::string_view interface,
                               uint64_t hash) {
  const auto tag = static_cast<uint32_t>(hash >> 32);
  size_t pos = hash & mask_;
  for (;; pos = (pos + 1) & mask_) {
    const auto [id_plus_1, slot_tag] = slots_[pos];
    if (id_plus_1 == 0) break;
    if (slot_tag == tag && Is(id_plus_1 - 1, account, interface)) return id_plus_1 - 1;
  }
  const auto id = static_cast<uint32_t>(arena_.size());
  const Header h{static_cast<uint32_t>(account.size()), static_cast<uint32_t>(interface.size()), 0};
  const size_t size = sizeof(Header) + account.size() + interface.size();
  arena_.resize(arena_.size() + ((size + 3) & ~size_t{3}));
  char* p = arena_.data() + id;
  std::memcpy(p, &h, sizeof(h));
  std::memcpy(p + sizeof(h), account.data(), account.size());
  std::memcpy(p + sizeof(h) + account.size(), interface.data(), interface.size());
  slots_[pos] = {id + 1, tag};
  if (++count_ * 2 > slots_.size()) Grow();
  return id;
}

void OwnerInterner::Grow() {
  slots_.assign(slots_.size() * 2, {0, 0});
  mask_ = slots_.size() - 1;
  for (uint32_t id = 0; id < end_id(); id = next_id(id)) {
    const uint64_t hash = HashOwner(account(id), interface(id));
    size_t pos = hash & mask_;
    while (slots_[pos].first != 0) pos = (pos + 1) & mask_;
    slots_[pos] = {id + 1, static_cast<uint32_t>(hash >> 32)};
  }
}

void OwnerInterner::Clear() {
  if (count_ == 0) return;
  arena_.clear();
  std::fill(slots_.begin(), slots_.end(), std::pair<uint32_t, uint32_t>{0, 0});
  count_ = 0;
}

PartialDigest::PartialDigest() { Rehash(kMinPartialCapacity); }

void PartialDigest::Rehash(size_t capacity) {
  slots_.assign(capacity, {0, 0});
  mask_ = capacity - 1;
  for (size_t i = 0; i < hashes_.size(); ++i) {
    size_t pos = hashes_[i] & mask_;
    while (slots_[pos].first != 0) pos = (pos + 1) & mask_;
    slots_[pos] = {static_cast<uint32_t>(i + 1), static_cast<uint32_t>(hashes_[i] >> 32)};
  }
}

void PartialDigest::Clear() {
  owners_.Clear();
  last_owner_ = UINT32_MAX;
  if (entries_.empty()) return;
  entries_.clear();
  hashes_.clear();
  std::fill(slots_.begin(), slots_.end(), std::pair<uint32_t, uint32_t>{0, 0});
}

void PartialDigest::Add(const FlowRecord& record) {
  if (last_owner_ == UINT32_MAX ||
      !owners_.Is(last_owner_, record.account_id, record.interface_id)) {
    last_owner_ = owners_.Intern(record.account_id, record.interface_id,
                                 HashOwner(record.account_id, record.interface_id));
  }
  DigestEntry e;
  e.key = MakeDigestKey(record, last_owner_);
  e.value = {record.packets, record.bytes, 1, record.start, record.end};
  AddEntry(e);
}

size_t PartialDigest::AddEntry(const DigestEntry& e) { return AddEntry(e, HashDigestKey(e.key)); }

size_t PartialDigest::AddEntry(const DigestEntry& e, uint64_t hash) {
  const auto tag = static_cast<uint32_t>(hash >> 32);
  size_t pos = hash & mask_;
  for (;; pos = (pos + 1) & mask_) {
    const auto [index, slot_tag] = slots_[pos];
    if (index == 0) break;
    if (slot_tag == tag && entries_[index - 1].key == e.key) {
      entries_[index - 1].value.Add(e.value);
      return index - 1;
    }
  }
  entries_.push_back(e);
  hashes_.push_back(hash);
  slots_[pos] = {static_cast<uint32_t>(entries_.size()), tag};
  if (entries_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
  return entries_.size() - 1;
}

int64_t PartialDigest::Find(const DigestKey& key) const {
  const uint64_t hash = HashDigestKey(key);
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
    const auto [index, slot_tag] = slots_[pos];
    if (index == 0) return -1;
    if (slot_tag == tag && entries_[index - 1].key == key) return index - 1;
  }
}

DigestTable::RowStore::~RowStore() {
  for (DigestEntry* block : blocks_) FreeHugePages(block, kHugePageBytes);
}

uint32_t DigestTable::RowStore::Push(const DigestEntry& e) {
  if (size_ % kBlockRows == 0) {
    void* block = AllocateHugePages(kHugePageBytes, /*advise_huge=*/!blocks_.empty());
    if (block == nullptr) throw std::bad_alloc();
    blocks_.push_back(static_cast<DigestEntry*>(block));
  }
  blocks_.back()[size_ % kBlockRows] = e;
  return size_++;
}

DigestTable::DigestTable() : shards_(new Shard[kShardCount]) {}
DigestTable::~DigestTable() = default;

uint32_t DigestTable::InternOwner(std::string_view account, std::string_view interface) {
  std::lock_guard lock(owners_mu_);
  return owners_.Intern(account, interface, HashOwner(account, interface));
}

void DigestTable::Merge(PartialDigest& partial) {
  auto& entries = partial.entries_;
  auto& hashes = partial.hashes_;
  if (entries.empty()) {
    partial.Clear();
    return;
  }
  // Local owner ids -> global ones: one lock for the whole object, the global slots loaded
  // first in a tight loop (independent loads overlap; see MergeShard).
  OwnerInterner& local = partial.owners_;
  auto& local_owners = partial.merge_owners_;
  local_owners.clear();
  for (uint32_t id = 0; id < local.end_id(); id = local.next_id(id)) {
    local_owners.emplace_back(id, HashOwner(local.account(id), local.interface(id)));
  }
  {
    std::lock_guard lock(owners_mu_);
    uint64_t touched = 0;
    for (const auto& [id, hash] : local_owners) touched += owners_.FirstSlot(hash);
    asm volatile("" : : "r"(touched));  // keep the loads
    for (const auto& [id, hash] : local_owners) {
      local.set_extra(id, owners_.Intern(local.account(id), local.interface(id), hash));
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].key.owner = local.extra(entries[i].key.owner);
    hashes[i] = HashDigestKey(entries[i].key);
  }
  // Group the entries by shard (a counting sort) so each shard is locked once.
  std::array<uint32_t, kShardCount + 1> starts{};
  for (uint64_t h : hashes) ++starts[(h >> (64 - kShardBits)) + 1];
  for (size_t s = 0; s < kShardCount; ++s) starts[s + 1] += starts[s];
  auto& order = partial.merge_order_;
  order.resize(entries.size());
  {
    std::array<uint32_t, kShardCount> next;
    std::copy(starts.begin(), starts.end() - 1, next.begin());
    for (uint32_t i = 0; i < entries.size(); ++i) order[next[hashes[i] >> (64 - kShardBits)]++] = i;
  }
  for (size_t s = 0; s < kShardCount; ++s) {
    if (starts[s] == starts[s + 1]) continue;
    MergeShard(shards_[s], entries.data(), hashes.data(), order.data() + starts[s],
               starts[s + 1] - starts[s]);
  }
  partial.Clear();
}

void DigestTable::RowIndex::Resize(size_t capacity) {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> old(capacity, 0);
  old.swap(slots_);
  mask_ = capacity - 1;
  shift_ = 32 - std::countr_zero(capacity);
  for (uint64_t slot : old) {
    if (slot != 0) Place(slot);
  }
}

// The index and the rows are mostly cache misses. They are taken in batches: the first index
// slot of every entry of the batch is loaded, then every entry is looked up by its 32 hash bits
// alone (no row is read), then every candidate row is loaded, each in a tight loop of
// independent loads that the core overlaps, and only then are the entries added. Lookups ahead stay
// valid: the entries of one partial are distinct keys and the shard is locked.
void DigestTable::MergeShard(Shard& shard, const DigestEntry* entries, const uint64_t* hashes,
                             const uint32_t* order, size_t count) {
  constexpr size_t kBatch = 32;
  uint32_t candidate[kBatch];
  std::lock_guard lock(shard.mu);
  for (size_t base = 0; base < count; base += kBatch) {
    const size_t m = std::min(kBatch, count - base);
    // Plain loads without branches on what they load, so none waits for another.
    uint64_t touched = 0;
    for (size_t k = 0; k < m; ++k) {
      touched += shard.index.FirstSlot(static_cast<uint32_t>(hashes[order[base + k]]));
    }
    for (size_t k = 0; k < m; ++k) {
      candidate[k] = shard.index.FindCandidate(static_cast<uint32_t>(hashes[order[base + k]]));
    }
    if (shard.rows.size() > 0) {
      for (size_t k = 0; k < m; ++k) {
        touched += shard.rows[candidate[k] == RowIndex::kNone ? 0 : candidate[k]].key.owner;
      }
    }
    asm volatile("" : : "r"(touched));  // keep the loads
    for (size_t k = 0; k < m; ++k) {
      const DigestEntry& e = entries[order[base + k]];
      const auto hash32 = static_cast<uint32_t>(hashes[order[base + k]]);
      uint32_t row = candidate[k];
      if (row != RowIndex::kNone && !(shard.rows[row].key == e.key)) {
        // Another key with the same 32 hash bits: look the key up properly.
        row = shard.index.Find(hash32, [&](uint32_t r) { return shard.rows[r].key == e.key; });
      }
      if (row != RowIndex::kNone) {
        shard.rows[row].value.Add(e.value);
      } else {
        shard.index.Insert(hash32, shard.rows.Push(e));
      }
    }
  }
}

void DigestTable::Finish() {
  size_t total = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    total += shards_[s].rows.size();
    shards_[s].index.Release();  // no more lookups: its memory serves the sort instead
  }
  std::vector<std::pair<uint64_t, const DigestEntry*>> rows;
  rows.reserve(total);
  uint64_t max_bytes = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    Shard& shard = shards_[s];
    for (uint32_t i = 0; i < shard.rows.size(); ++i) {
      const uint64_t bytes = shard.rows[i].value.bytes;
      max_bytes = std::max(max_bytes, bytes);
      rows.emplace_back(bytes, &shard.rows[i]);
    }
  }
  // LSD radix sort by bytes, 11 bits a pass and only as many passes as the largest count
  // needs (a comparison sort of millions of rows costs several times more), then reversed.
  constexpr int kDigitBits = 11;
  constexpr size_t kBuckets = size_t{1} << kDigitBits;
  order_.resize(total);
  for (int shift = 0; shift < 64 && (max_bytes >> shift) != 0; shift += kDigitBits) {
    std::vector<size_t> starts(kBuckets + 1, 0);
    for (const auto& r : rows) ++starts[((r.first >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 0; b < kBuckets; ++b) starts[b + 1] += starts[b];
    for (const auto& r : rows) order_[starts[(r.first >> shift) & (kBuckets - 1)]++] = r;
    rows.swap(order_);
  }
  order_.assign(rows.rbegin(), rows.rend());
}

Digest::Digest() = default;
Digest::Digest(std::unique_ptr<DigestTable> table) : table_(std::move(table)) {}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

size_t Digest::size() const { return table_ ? table_->size() : 0; }

}  // namespace vpcflow
