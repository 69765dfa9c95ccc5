#include "digest/record_batch.hpp"

#include <algorithm>
#include <cstring>

namespace vpcflow {
namespace {

constexpr size_t kFirstRecords = 1024;

// Stores `word` at p by one 8-byte store (an opaque copy, which the compiler may not merge with
// the next into a 16-byte copy through the stack).
[[gnu::always_inline]] inline void StoreWord(unsigned char* p, uint64_t word) {
  asm("" : "+r"(word));
  std::memcpy(p, &word, sizeof(word));
}

// The key's bytes but its owner's, as memcmp of the key with the owner zero would compare them
// (the order of runs: digest/partial_run.hpp).
int CompareKeyBody(const DigestKey& a, const DigestKey& b) {
  constexpr size_t kOwner = offsetof(DigestKey, owner);
  constexpr size_t kAfterOwner = kOwner + sizeof(DigestKey::owner);
  const auto* x = reinterpret_cast<const unsigned char*>(&a);
  const auto* y = reinterpret_cast<const unsigned char*>(&b);
  if (const int c = std::memcmp(x, y, kOwner); c != 0) return c;
  return std::memcmp(x + kAfterOwner, y + kAfterOwner, sizeof(DigestKey) - kAfterOwner);
}

}  // namespace

RecordBatch::RecordBatch(size_t max_bytes)
    : max_records_(std::max<size_t>(1, max_bytes / 8 * 5 / kRecordBytes)),
      max_owner_bytes_(max_bytes / 8),
      full_at_(max_records_) {}

inline void RecordBatch::NoteOwner(std::string_view account, std::string_view interface) {
  if (last_owner_ == UINT32_MAX || !owners_.Is(last_owner_, account, interface)) {
    last_owner_ = owners_.Intern(account, interface, HashOwner(account, interface));
    const size_t owner_bytes =
        owners_.memory_bytes() +
        merge_owners_.capacity() * sizeof(decltype(merge_owners_)::value_type);
    if (owner_bytes >= max_owner_bytes_) full_at_ = 0;
  }
}

void RecordBatch::AddEntry(std::string_view account, std::string_view interface,
                           const DigestEntry& entry) {
  NoteOwner(account, interface);
  if (entries_.size() == entries_.capacity()) [[unlikely]]
    Grow();
  DigestEntry& e = entries_.emplace_back();
  e = entry;
  e.key.owner = last_owner_;
  hashes_.push_back(HashKeyBody(e.key));
}

void RecordBatch::Add(const FlowRecord& record) {
  NoteOwner(record.account_id, record.interface_id);
  if (entries_.size() == entries_.capacity()) [[unlikely]]
    Grow();
  uint64_t key[6];
  MakeDigestKeyWords(record, last_owner_, key);
  DigestEntry& e = entries_.emplace_back();  // uninitialized: every byte is written here
  // Every word by its own 8-byte store from a register: copied through the stack or from the
  // record as 16-byte loads, words just stored as 8 bytes stalled on store forwarding (a third
  // of Add's samples).
  auto* k = reinterpret_cast<unsigned char*>(&e.key);
#pragma GCC unroll 6
  for (size_t i = 0; i < 6; ++i) StoreWord(k + 8 * i, key[i]);
  auto* v = reinterpret_cast<unsigned char*>(&e.value);
  static_assert(sizeof(DigestValue) == 40 && offsetof(DigestValue, flows) == 16 &&
                offsetof(DigestValue, end) == 32);
  StoreWord(v, record.packets);
  StoreWord(v + 8, record.bytes);
  StoreWord(v + 16, 1);
  StoreWord(v + 24, static_cast<uint64_t>(record.start));
  StoreWord(v + 32, static_cast<uint64_t>(record.end));
  hashes_.push_back(HashKeyWords(key));
}

void RecordBatch::Grow() {
  size_t capacity = std::min(std::max(kFirstRecords, 2 * entries_.capacity()), max_records_);
  // Past full() (a caller that does not empty the batch) it grows as a vector would.
  if (capacity <= entries_.size()) capacity = std::max(kFirstRecords, 2 * entries_.size());
  entries_.reserve(capacity);
  hashes_.reserve(capacity);
  merge_order_.reserve(capacity);
}

void RecordBatch::Clear() {
  owners_.Clear();
  last_owner_ = UINT32_MAX;
  full_at_ = max_records_;
  entries_.clear();
  hashes_.clear();
}

size_t RecordBatch::memory_bytes() const {
  return entries_.capacity() * sizeof(DigestEntry) + hashes_.capacity() * sizeof(uint64_t) +
         merge_order_.capacity() * sizeof(uint32_t) + owners_.memory_bytes() +
         merge_owners_.capacity() * sizeof(decltype(merge_owners_)::value_type);
}

Status RecordBatch::DrainInKeyOrder(
    const std::function<Status(std::string_view, std::string_view, const DigestEntry&)>& fn) {
  // Owners ranked by (account, interface), as DigestTable::ForEachInKeyOrder ranks them; each
  // entry's owner becomes its rank, so the entries sort by (rank, key bytes) in place.
  const std::vector<uint32_t> ranked = owners_.RankByPair();
  for (DigestEntry& e : entries_) e.key.owner = owners_.extra(e.key.owner);
  std::sort(entries_.begin(), entries_.end(), [](const DigestEntry& a, const DigestEntry& b) {
    if (a.key.owner != b.key.owner) return a.key.owner < b.key.owner;
    return CompareKeyBody(a.key, b.key) < 0;
  });
  Status status;
  for (size_t i = 0; i < entries_.size() && status.ok();) {
    DigestEntry row = entries_[i];
    for (++i; i < entries_.size() && entries_[i].key == row.key; ++i) {
      row.value.Add(entries_[i].value);
    }
    const uint32_t id = ranked[row.key.owner];
    status = fn(owners_.account(id), owners_.interface(id), row);
  }
  Clear();
  return status;
}

}  // namespace vpcflow
