#include "digest/owner_interner.hpp"

#include <algorithm>
#include <cstdint>

#include "digest/digest_key.hpp"

namespace vpcflow {
namespace {

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

uint64_t HashOwner(std::string_view account, std::string_view interface) {
  return HashBytes(interface, HashBytes(account, 0x2d358dccaa6c78a5ULL));
}

OwnerInterner::OwnerInterner() : slots_(kMinOwnerCapacity, {0, 0}), mask_(kMinOwnerCapacity - 1) {}

std::vector<uint32_t> OwnerInterner::RankByPair() {
  std::vector<uint32_t> ids;
  ids.reserve(count_);
  for (uint32_t id = 0; id < end_id(); id = next_id(id)) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), [this](uint32_t a, uint32_t b) {
    const int c = account(a).compare(account(b));
    return c != 0 ? c < 0 : interface(a) < interface(b);
  });
  for (uint32_t rank = 0; rank < ids.size(); ++rank) set_extra(ids[rank], rank);
  return ids;
}

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

}  // namespace vpcflow
