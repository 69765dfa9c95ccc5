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

/// The 48 bytes of the key of a record whose (account-id, interface-id) the caller interned as
/// `owner`, as six words (little-endian, as DigestKey lays them out). Built in registers: a key
/// assembled field by field in memory and read back as words stalls on store forwarding
/// (RecordBatch::Add hashes every record's key).
inline void MakeDigestKeyWords(const FlowRecord& record, uint32_t owner, uint64_t (&w)[6]) {
  static_assert(offsetof(DigestKey, owner) == 32 && offsetof(DigestKey, srcport) == 36 &&
                offsetof(DigestKey, dstport) == 38 && offsetof(DigestKey, protocol) == 40 &&
                offsetof(DigestKey, flags) == 41 && std::endian::native == std::endian::little);
  std::memcpy(&w[0], record.srcaddr.bytes.data(), 16);
  std::memcpy(&w[2], record.dstaddr.bytes.data(), 16);
  w[4] = uint64_t{owner} | uint64_t{record.srcport} << 32 | uint64_t{record.dstport} << 48;
  w[5] = uint64_t{record.protocol} |
         uint64_t{DigestKey::Flags(record.action, record.srcaddr.v4, record.dstaddr.v4)} << 8;
}

/// The key of a record whose (account-id, interface-id) the caller interned as `owner`.
inline DigestKey MakeDigestKey(const FlowRecord& record, uint32_t owner) {
  uint64_t w[6];
  MakeDigestKeyWords(record, owner, w);
  DigestKey key;
  std::memcpy(&key, w, sizeof(key));
  return key;
}

/// HashKeyBody of the key whose words are `w` (MakeDigestKeyWords).
inline uint64_t HashKeyWords(const uint64_t (&w)[6]) {
  const uint64_t w4 = w[4] & ~uint64_t{0xffffffff};  // the owner: the low half of the fifth word
  return MixWords(w[0] ^ 0xa0761d6478bd642fULL, w[1] ^ 0xe7037ed1a0b428dbULL) ^
         MixWords(w[2] ^ 0x8ebc6af09c88c6e3ULL, w[3] ^ 0x589965cc75374cc3ULL) ^
         MixWords(w4 ^ 0x1d8e4e27c47d124fULL, w[5] ^ 0x9e3779b97f4a7c15ULL);
}

/// The hash of the key's bytes but its owner's: a record's key is hashed once, while its owner
/// is still an id local to its object, and FinishKeyHash adds the global owner at merge.
inline uint64_t HashKeyBody(const DigestKey& key) {
  static_assert(offsetof(DigestKey, owner) == 32 && std::endian::native == std::endian::little);
  uint64_t w[6];
  std::memcpy(w, &key, sizeof(w));
  return HashKeyWords(w);
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

/// The narrow form of a DigestKey whose two addresses are IPv4 (95% of the keys of issue 14's
/// corpora): the same fields with 4-byte addresses, 24 bytes (the padding always zero), so that
/// its row (DigestEntryV4) is one 64-byte cache line. Exact: Fits says which keys it holds, and
/// Widen gives back the very DigestKey that Narrow took. Trivially copyable; thread-safe.
struct DigestKeyV4 {
  std::array<uint8_t, 4> src{};  ///< the first 4 bytes of IpAddress::bytes
  std::array<uint8_t, 4> dst{};
  uint32_t owner = 0;
  uint16_t srcport = 0;
  uint16_t dstport = 0;
  uint8_t protocol = 0;
  uint8_t flags = 0;  ///< as DigestKey::flags (both address bits set)
  std::array<uint8_t, 6> padding{};

  /// True when `key` has a narrow form: both addresses IPv4, their other 12 bytes zero (as
  /// every parsed IPv4 address has them; a key that does not is kept wide, not truncated).
  static bool Fits(const DigestKey& key) {
    constexpr uint8_t kBoth = DigestKey::kSrcV4 | DigestKey::kDstV4;
    uint64_t w[4];
    std::memcpy(w, &key, sizeof(w));  // src, dst
    return (key.flags & kBoth) == kBoth && ((w[0] >> 32) | w[1] | (w[2] >> 32) | w[3]) == 0;
  }
  /// The narrow form of a key for which Fits holds. Composed of the key's words in registers
  /// (fields stored one by one and read back as words by operator== stalled on store
  /// forwarding in DigestTable::MergeShard).
  static DigestKeyV4 Narrow(const DigestKey& key) {
    static_assert(offsetof(DigestKey, owner) == 32 && offsetof(DigestKeyV4, owner) == 8 &&
                  std::endian::native == std::endian::little);
    uint64_t w[6];
    std::memcpy(w, &key, sizeof(w));
    // src and dst's first 4 bytes; owner, ports, protocol, flags and the zero padding.
    const uint64_t n[3] = {(w[0] & 0xffffffff) | w[2] << 32, w[4], w[5] & 0xffff};
    DigestKeyV4 k;
    std::memcpy(&k, n, sizeof(k));
    return k;
  }
  /// The DigestKey this is the narrow form of.
  DigestKey Widen() const {
    DigestKey key;
    std::memcpy(key.src.data(), src.data(), 4);
    std::memcpy(key.dst.data(), dst.data(), 4);
    std::memcpy(&key.owner, &owner, kTailBytes);
    return key;
  }

  Action action() const { return static_cast<Action>(flags & 3); }
  IpAddress srcaddr() const { return Address(src); }
  IpAddress dstaddr() const { return Address(dst); }

  friend bool operator==(const DigestKeyV4& a, const DigestKeyV4& b) {
    uint64_t wa[3], wb[3];
    std::memcpy(wa, &a, sizeof(wa));
    std::memcpy(wb, &b, sizeof(wb));
    return ((wa[0] ^ wb[0]) | (wa[1] ^ wb[1]) | (wa[2] ^ wb[2])) == 0;
  }

 private:
  // owner, srcport, dstport, protocol and flags: laid out alike in both forms.
  static constexpr size_t kTailBytes = 10;
  static IpAddress Address(const std::array<uint8_t, 4>& bytes) {
    IpAddress a;
    std::memcpy(a.bytes.data(), bytes.data(), 4);
    a.v4 = true;
    return a;
  }
};
static_assert(sizeof(DigestKeyV4) == 24);
static_assert(offsetof(DigestKeyV4, flags) - offsetof(DigestKeyV4, owner) ==
                  offsetof(DigestKey, flags) - offsetof(DigestKey, owner) &&
              offsetof(DigestKeyV4, flags) + 1 - offsetof(DigestKeyV4, owner) == 10);

/// The row of a key whose narrow form exists (DigestKeyV4::Fits): one cache line.
struct alignas(64) DigestEntryV4 {
  DigestKeyV4 key;
  DigestValue value;
};
static_assert(sizeof(DigestEntryV4) == 64);

}  // namespace vpcflow
