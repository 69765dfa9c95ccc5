#pragma once
/// OwnerInterner: the (account-id, interface-id) pairs of a table, each stored once.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/page_blocks.hpp"

namespace vpcflow {

/// The hash of an (account, interface) pair.
uint64_t HashOwner(std::string_view account, std::string_view interface);

/// Whether the `n` bytes at `a` and at `b` are equal. Inline, by 8-byte loads from 8 bytes on
/// (the last load overlapping): account and interface ids are 12 and 21 bytes, for which a call
/// of memcmp per comparison cost more than the comparison (OwnerInterner::Is, once a record).
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n < 8) return std::memcmp(a, b, n) == 0;
  auto load = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  uint64_t diff = load(a + n - 8) ^ load(b + n - 8);
  for (size_t i = 0; i + 8 < n; i += 8) diff |= load(a + i) ^ load(b + i);
  return diff == 0;
}

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
    // The interface first: the pairs of one object mostly share their account.
    return h.account_size == account.size() && h.interface_size == interface.size() &&
           SameBytes(p + account.size(), interface.data(), interface.size()) &&
           SameBytes(p, account.data(), account.size());
  }
  uint32_t extra(uint32_t id) const { return header(id).extra; }
  void set_extra(uint32_t id, uint32_t value) {
    std::memcpy(arena_.data() + id + offsetof(Header, extra), &value, sizeof(value));
  }

  /// Sets each pair's extra() to its rank in (account, interface) order, the order of runs
  /// (CompareRowKeys of digest/partial_run.hpp), and returns the ids in that order.
  std::vector<uint32_t> RankByPair();

  size_t size() const { return count_; }
  /// Iteration over ids in insertion order: for (id = 0; id < end_id(); id = next_id(id)).
  uint32_t end_id() const { return static_cast<uint32_t>(arena_.size()); }
  uint32_t next_id(uint32_t id) const;
  /// The slot where interning a pair with this hash starts (loading it warms the cache).
  uint32_t FirstSlot(uint64_t hash) const { return slots_[hash & mask_].first; }
  /// Forgets every pair, keeping the memory.
  void Clear();
  /// Bytes of the records and slots.
  size_t memory_bytes() const {
    return arena_.size() + slots_.size() * sizeof(std::pair<uint32_t, uint32_t>);
  }

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
  std::vector<char, PageBlockAllocator<char>> arena_;
  // {id + 1 (0 = empty), hash >> 32}
  std::vector<std::pair<uint32_t, uint32_t>, PageBlockAllocator<std::pair<uint32_t, uint32_t>>>
      slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace vpcflow
