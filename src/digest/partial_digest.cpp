#include "digest/partial_digest.hpp"

#include <algorithm>
#include <cstdint>

namespace vpcflow {
namespace {

constexpr size_t kMinPartialCapacity = 1024;

}  // namespace

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
  if (entries_.empty()) return;
  entries_.clear();
  hashes_.clear();
  std::fill(slots_.begin(), slots_.end(), std::pair<uint32_t, uint32_t>{0, 0});
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

}  // namespace vpcflow
