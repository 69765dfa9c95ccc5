#pragma once
/// The key and value of one digest row: the compact conversation key (addresses in binary, the
/// account and interface interned together as one 32-bit "owner"), its hash, and the aggregate.
/// Trivially copyable values; thread-safe.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "flowlog/line_parser.hpp"

namespace vpcflow {

/// 64x64 -> 128-bit multiply, folded (the mixing step of wyhash).
inline uint64_t MixWords(uint64_t a, uint64_t b) {
  const unsigned __int128 m = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

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

/// The hash of the key's bytes but its owner's: a record's key is hashed once, while its owner
/// is still an id local to its object, and FinishKeyHash adds the global owner at merge.
inline uint64_t HashKeyBody(const DigestKey& key) {
  static_assert(offsetof(DigestKey, owner) == 32 && std::endian::native == std::endian::little);
  uint64_t w[6];
  std::memcpy(w, &key, sizeof(w));
  w[4] &= ~uint64_t{0xffffffff};  // the owner: the low half of the fifth word
  return MixWords(w[0] ^ 0xa0761d6478bd642fULL, w[1] ^ 0xe7037ed1a0b428dbULL) ^
         MixWords(w[2] ^ 0x8ebc6af09c88c6e3ULL, w[3] ^ 0x589965cc75374cc3ULL) ^
         MixWords(w[4] ^ 0x1d8e4e27c47d124fULL, w[5] ^ 0x9e3779b97f4a7c15ULL);
}

/// HashDigestKey of a key of body hash `body` (HashKeyBody) and owner `owner`.
inline uint64_t FinishKeyHash(uint64_t body, uint32_t owner) {
  return MixWords(body ^ owner, 0xbf58476d1ce4e5b9ULL);
}

/// A fast, well-mixed 64-bit hash of the key's bytes.
inline uint64_t HashDigestKey(const DigestKey& key) {
  return FinishKeyHash(HashKeyBody(key), key.owner);
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

}  // namespace vpcflow
