#include "digest/digest_table.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "digest/radix_sort.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {

DigestTable::DigestTable() : shards_(new Shard[kShardCount]) {}
DigestTable::~DigestTable() = default;

uint32_t DigestTable::InternOwner(std::string_view account, std::string_view interface) {
  std::lock_guard lock(owners_mu_);
  return owners_.Intern(account, interface, HashOwner(account, interface));
}

void DigestTable::Merge(RecordBatch& batch) {
  auto& entries = batch.entries_;
  auto& hashes = batch.hashes_;
  if (entries.empty()) {
    batch.Clear();
    return;
  }
  // Local owner ids -> global ones: one lock for the whole object, the global slots loaded
  // first in a tight loop (independent loads overlap; see MergeShard).
  OwnerInterner& local = batch.owners_;
  auto& local_owners = batch.merge_owners_;
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
    const size_t owner_bytes = owners_.memory_bytes();
    memory_bytes_.fetch_add(owner_bytes - owner_bytes_, std::memory_order_relaxed);
    owner_bytes_ = owner_bytes;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint32_t owner = local.extra(entries[i].key.owner);
    entries[i].key.owner = owner;
    hashes[i] = FinishKeyHash(hashes[i], owner);
  }
  // Group the entries by shard (a counting sort) so each shard is locked once.
  std::array<uint32_t, kShardCount + 1> starts{};
  for (uint64_t h : hashes) ++starts[(h >> (64 - kShardBits)) + 1];
  for (size_t s = 0; s < kShardCount; ++s) starts[s + 1] += starts[s];
  auto& order = batch.merge_order_;
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
  batch.Clear();
}

void DigestTable::RowIndex::Resize(size_t capacity) {
  Slots old(capacity, 0);
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
// valid (the shard is locked, rows never move) but for a key added earlier in the same batch (an
// object may hold a key many times): an entry found absent is looked up again once the batch has
// added a row.
//
// A key whose narrow form exists (DigestKeyV4::Fits) can only equal a narrow row, any other only
// a wide one: the candidate's form is checked before its key.
void DigestTable::MergeShard(Shard& shard, const DigestEntry* entries, const uint64_t* hashes,
                             const uint32_t* order, size_t count) {
  constexpr size_t kBatch = 32;
  uint32_t candidate[kBatch];
  std::lock_guard lock(shard.mu);
  const size_t bytes_before = ShardBytes(shard);
  const size_t rows_before = shard.rows();
  // What an absent candidate loads instead of a row (keeps the warming loop free of branches
  // on what it loads).
  const uint32_t no_row_owner = 0;
  for (size_t base = 0; base < count; base += kBatch) {
    const size_t m = std::min(kBatch, count - base);
    // Plain loads without branches on what they load, so none waits for another.
    // The entries too: the batch is read in shard order, at random in an object's records
    // (~750 KB on high: mostly L2 misses).
    uint64_t touched = 0;
    for (size_t k = 0; k < m; ++k) {
      touched += shard.index.FirstSlot(static_cast<uint32_t>(hashes[order[base + k]])) +
                 entries[order[base + k]].key.flags;
    }
    for (size_t k = 0; k < m; ++k) {
      candidate[k] = shard.index.FindCandidate(static_cast<uint32_t>(hashes[order[base + k]]));
    }
    for (size_t k = 0; k < m; ++k) {
      const uint32_t id = candidate[k];
      const uint32_t* owner = id == RowIndex::kNone  ? &no_row_owner
                              : (id & kWideRow) != 0 ? &shard.wide[id & ~kWideRow].key.owner
                                                     : &shard.narrow[id].key.owner;
      touched += *owner;
    }
    asm volatile("" : : "r"(touched));  // keep the loads
    bool added = false;
    for (size_t k = 0; k < m; ++k) {
      const DigestEntry& e = entries[order[base + k]];
      const auto hash32 = static_cast<uint32_t>(hashes[order[base + k]]);
      // Adds the entry to the row of `key` in `store` (the rows of one form, whose ids carry
      // `form`), or a new row.
      auto add = [&](auto& store, const auto& key, uint32_t form) {
        auto is_key = [&](uint32_t r) {
          return (r & kWideRow) == form && store[r & ~kWideRow].key == key;
        };
        uint32_t row = candidate[k];
        if (row == RowIndex::kNone ? added : !is_key(row)) {
          // Another key with the same 32 hash bits, or maybe a key this batch added: look the
          // key up properly.
          row = shard.index.Find(hash32, is_key);
        }
        if (row != RowIndex::kNone) {
          store[row & ~kWideRow].value.Add(e.value);
        } else {
          shard.index.Insert(hash32, form | store.Push({key, e.value}, arena_));
          added = true;
        }
      };
      if (DigestKeyV4::Fits(e.key)) {
        add(shard.narrow, DigestKeyV4::Narrow(e.key), 0);
      } else {
        add(shard.wide, e.key, kWideRow);
      }
    }
  }
  memory_bytes_.fetch_add(ShardBytes(shard) - bytes_before, std::memory_order_relaxed);
  rows_added_.fetch_add(shard.rows() - rows_before, std::memory_order_relaxed);
}

size_t DigestTable::ShardBytes(const Shard& shard) const {
  return size_t{shard.narrow.size()} * sizeof(DigestEntryV4) +
         size_t{shard.wide.size()} * sizeof(DigestEntry) + shard.index.bytes();
}

Status DigestTable::ForEachInKeyOrder(const std::function<Status(const DigestEntry&)>& fn) {
  size_t total = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    total += shards_[s].rows();
    shards_[s].index.Release();
  }
  // Owners ranked by (account, interface): a row's rank then orders it as its strings would.
  owners_.RankByPair();
  // Sorted by a 64-bit prefix (owner rank, then the first 4 bytes of srcaddr) carried beside
  // each pointer, so most comparisons read no row; equal prefixes compare the key's bytes.
  struct Ref {
    uint64_t prefix;
    RowRef row;
  };
  std::vector<Ref, PageBlockAllocator<Ref>> refs;
  refs.reserve(total);
  ForEachRow([&](RowRef row) {
    const DigestKey key = row.key();
    uint32_t src_head;
    std::memcpy(&src_head, key.src.data(), 4);
    refs.push_back({uint64_t{owners_.extra(key.owner)} << 32 | __builtin_bswap32(src_head), row});
  });
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    DigestKey x = a.row.key();
    DigestKey y = b.row.key();
    x.owner = 0;
    y.owner = 0;
    return std::memcmp(&x, &y, sizeof(DigestKey)) < 0;
  });
  for (const Ref& r : refs) VPCFLOW_RETURN_IF_ERROR(fn(r.row.entry()));
  return OkStatus();
}

void DigestTable::Finish(int threads) {
  size_t total = 0;
  for (size_t s = 0; s < kShardCount; ++s) {
    total += shards_[s].rows();
    shards_[s].index.Release();  // no more lookups: its memory serves the sort instead
  }
  // One array of (bytes, row), filled already ordered by the first digit and then sorted in
  // place: a second array for an out-of-place sort would be the peak of the whole run
  // (DESIGN.md "Performance"). Each thread takes a share of the row sequence.
  order_ = PageArray<std::pair<uint64_t, RowRef>>(total);
  FillSortedByKeyDescending<RowRef>(
      order_.data(), total,
      [this, total](int part, int parts, auto&& emit) {
        const size_t n = static_cast<size_t>(parts);
        const size_t p = static_cast<size_t>(part);
        ForEachRowIn(total * p / n, total * (p + 1) / n,
                     [&emit](RowRef row) { emit(row.value().bytes, row); });
      },
      threads);
  RankOwners();
}

void DigestTable::RankOwners() {
  struct Prefix {
    std::string text;  // "account interface "
    uint32_t id;
  };
  std::vector<Prefix> prefixes;
  prefixes.reserve(owners_.size());
  bool spaces = false;
  for (uint32_t id = 0; id < owners_.end_id(); id = owners_.next_id(id)) {
    const std::string_view account = owners_.account(id);
    const std::string_view interface = owners_.interface(id);
    spaces = spaces || account.find(' ') != account.npos || interface.find(' ') != interface.npos;
    std::string text;
    text.reserve(account.size() + interface.size() + 2);
    text.append(account).append(" ").append(interface).append(" ");
    prefixes.push_back({std::move(text), id});
  }
  std::sort(prefixes.begin(), prefixes.end(),
            [](const Prefix& a, const Prefix& b) { return a.text < b.text; });
  for (uint32_t rank = 0; rank < prefixes.size(); ++rank)
    owners_.set_extra(prefixes[rank].id, rank);
  // Without spaces inside, no owner's "account interface " is a proper prefix of another's
  // (each has exactly two spaces, the last at its end), so the first difference of two lines
  // of different owners falls within these prefixes.
  owner_ranks_order_lines_ = !spaces;
}

}  // namespace vpcflow
