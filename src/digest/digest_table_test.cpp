#include "digest/digest_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "digest/partial_digest.hpp"
#include "digest/row_format.hpp"
#include "digest/test_records.hpp"

namespace vpcflow {
namespace {

using testing_records::Rec;
using testing_records::ToFlowRecord;

// A row with its text owned (DigestRow's views only live during the callback).
struct OwnedRow {
  std::string account_id, interface_id, srcaddr, dstaddr, action;
  uint32_t dstport = 0;
  uint64_t flows = 0;
};

std::vector<OwnedRow> Rows(const Digest& digest) {
  std::vector<OwnedRow> rows;
  EXPECT_TRUE(digest
                  .ForEachRow([&](const DigestRow& r) {
                    rows.push_back({std::string(r.account_id), std::string(r.interface_id),
                                    std::string(r.srcaddr), std::string(r.dstaddr),
                                    std::string(r.action), r.dstport, r.flows});
                  })
                  .ok());
  return rows;
}

// The key of `f`, set field by field (with its address families' flags).
DigestKey FieldByFieldKey(const FlowRecord& f, uint32_t owner) {
  DigestKey k;
  k.src = f.srcaddr.bytes;
  k.dst = f.dstaddr.bytes;
  k.owner = owner;
  k.srcport = f.srcport;
  k.dstport = f.dstport;
  k.protocol = f.protocol;
  k.flags = DigestKey::Flags(f.action, f.srcaddr.v4, f.dstaddr.v4);
  return k;
}

DigestKey KeyOf(const Rec& r, uint32_t owner) {
  DigestKey k = FieldByFieldKey(ToFlowRecord(r), owner);
  k.flags = static_cast<uint8_t>(k.action());
  return k;
}

TEST(DigestKeyTest, HashIsDeterministicAndSensitiveToEveryField) {
  Rec base;
  const DigestKey k = KeyOf(base, 1);
  EXPECT_EQ(HashDigestKey(k), HashDigestKey(KeyOf(base, 1)));
  std::set<uint64_t> hashes{HashDigestKey(k)};
  const std::vector<std::function<void(DigestKey&)>> changes = {
      [](DigestKey& o) { o.owner = 2; },
      [](DigestKey& o) { o.srcport = 1; },
      [](DigestKey& o) { o.dstport = 444; },
      [](DigestKey& o) { o.protocol = 17; },
      [](DigestKey& o) { o.flags = static_cast<uint8_t>(Action::kReject); },
      [](DigestKey& o) { o.src[15] = 1; },
      [](DigestKey& o) { o.dst[0] = 11; },
  };
  for (const auto& change : changes) {
    DigestKey other = k;
    change(other);
    hashes.insert(HashDigestKey(other));
  }
  EXPECT_EQ(hashes.size(), 8u);
  EXPECT_NE(HashOwner("ab", "c"), HashOwner("a", "bc"));
}

// RecordBatch::Add builds each key as words (MakeDigestKeyWords) and hashes those: they must be
// the key's fields as DigestKey lays them out, and their hash the key's HashKeyBody.
TEST(DigestKeyTest, KeyWordsAreTheFieldsOfTheKey) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    FlowRecord f;
    for (uint8_t& b : f.srcaddr.bytes) b = static_cast<uint8_t>(rng());
    for (uint8_t& b : f.dstaddr.bytes) b = static_cast<uint8_t>(rng());
    f.srcaddr.v4 = rng() % 2 == 0;
    f.dstaddr.v4 = rng() % 2 == 0;
    f.srcport = static_cast<uint16_t>(rng());
    f.dstport = static_cast<uint16_t>(rng());
    f.protocol = static_cast<uint8_t>(rng());
    f.action = static_cast<Action>(rng() % 3);
    const auto owner = static_cast<uint32_t>(rng());
    DigestKey expected = FieldByFieldKey(f, owner);
    uint64_t w[6];
    MakeDigestKeyWords(f, owner, w);
    ASSERT_EQ(std::memcmp(w, &expected, sizeof(expected)), 0) << i;
    ASSERT_TRUE(MakeDigestKey(f, owner) == expected) << i;
    ASSERT_EQ(HashKeyWords(w), HashKeyBody(expected)) << i;
    // The owner is not part of the body's hash.
    expected.owner = owner + 1;
    ASSERT_EQ(HashKeyWords(w), HashKeyBody(expected)) << i;
  }
}

TEST(DigestKeyTest, HashSpreadsSequentialAddressesOverShardsAndLowBits) {
  std::vector<int> shards(DigestTable::kShardCount), low(128);
  constexpr int kKeys = 1 << 16;
  for (int i = 0; i < kKeys; ++i) {
    DigestKey k;
    k.src[0] = 10;
    k.src[2] = static_cast<uint8_t>(i >> 8);
    k.src[3] = static_cast<uint8_t>(i);
    k.flags = DigestKey::kSrcV4 | DigestKey::kDstV4;
    const uint64_t h = HashDigestKey(k);
    ++shards[h >> (64 - DigestTable::kShardBits)];
    ++low[h & 127];
  }
  const int per_shard = kKeys / static_cast<int>(DigestTable::kShardCount);
  for (int n : shards) EXPECT_NEAR(n, per_shard, per_shard / 2);
  for (int n : low) EXPECT_NEAR(n, kKeys / 128, kKeys / 256);
}

TEST(DigestKeyTest, HashSpreadsSequentialOwnersOverShardsAndLowBits) {
  std::vector<int> shards(DigestTable::kShardCount), low(128);
  constexpr int kOwners = 1 << 16;
  const uint64_t body = HashKeyBody(KeyOf(Rec{}, 0));
  for (int i = 0; i < kOwners; ++i) {
    const uint64_t h = FinishKeyHash(body, static_cast<uint32_t>(i) * 4);  // ids are offsets
    ++shards[h >> (64 - DigestTable::kShardBits)];
    ++low[h & 127];
  }
  const int per_shard = kOwners / static_cast<int>(DigestTable::kShardCount);
  for (int n : shards) EXPECT_NEAR(n, per_shard, per_shard / 2);
  for (int n : low) EXPECT_NEAR(n, kOwners / 128, kOwners / 256);
  EXPECT_EQ(FinishKeyHash(body, 8), HashDigestKey(KeyOf(Rec{}, 8)));
}

// The key of `r` as the table holds it once its owner is `owner`.
DigestKey ParsedKey(const Rec& r, uint32_t owner) { return MakeDigestKey(ToFlowRecord(r), owner); }

TEST(DigestKeyTest, NarrowFormHoldsExactlyTheKeysWithTwoIpv4Addresses) {
  Rec r;
  r.src = "255.255.255.255";
  r.dst = "0.0.0.1";
  r.srcport = 65535;
  r.dstport = 0;
  r.protocol = 255;
  r.action = Action::kReject;
  const DigestKey k = ParsedKey(r, UINT32_MAX);
  ASSERT_TRUE(DigestKeyV4::Fits(k));
  const DigestKey back = DigestKeyV4::Narrow(k).Widen();
  EXPECT_EQ(std::memcmp(&back, &k, sizeof(DigestKey)), 0);
  EXPECT_EQ(HashDigestKey(back), HashDigestKey(k));
  // Both forms of the row are written alike.
  const DigestValue value{UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2, INT64_MIN, INT64_MAX};
  const RowView wide = MakeRowView(DigestEntry{k, value}, "a", "b");
  const RowView narrow = MakeRowView(DigestEntryV4{DigestKeyV4::Narrow(k), value}, "a", "b");
  std::string wide_line(RowRoom(wide), '\0'), narrow_line(RowRoom(narrow), '\0');
  wide_line.resize(PutFlowLogLine(wide_line.data(), wide) - wide_line.data());
  narrow_line.resize(PutFlowLogLine(narrow_line.data(), narrow) - narrow_line.data());
  EXPECT_EQ(narrow_line, wide_line);
  EXPECT_EQ(narrow_line,
            "2 a b 255.255.255.255 0.0.0.1 65535 0 255 18446744073709551615 "
            "18446744073709551614 -9223372036854775808 9223372036854775807 REJECT OK\n");
  EXPECT_EQ(narrow.flows, UINT64_MAX - 2);
  for (const auto& [src, dst] :
       {std::pair{"10.0.0.1", "2001:db8::1"}, std::pair{"2001:db8::1", "10.0.0.1"},
        std::pair{"::ffff:10.0.0.1", "10.0.0.2"}, std::pair{"2001:db8::1", "2001:db8::2"}}) {
    r.src = src;
    r.dst = dst;
    EXPECT_FALSE(DigestKeyV4::Fits(ParsedKey(r, 0))) << src << " " << dst;
  }
  // IPv4 flags with bytes beyond the fourth: kept wide rather than truncated.
  for (size_t byte = 4; byte < 16; ++byte) {
    DigestKey src_tail = k;
    src_tail.src[byte] = 1;
    EXPECT_FALSE(DigestKeyV4::Fits(src_tail)) << byte;
    DigestKey dst_tail = k;
    dst_tail.dst[byte] = 1;
    EXPECT_FALSE(DigestKeyV4::Fits(dst_tail)) << byte;
  }
}

TEST(DigestKeyTest, NarrowKeysDifferExactlyWhereTheirWideFormsDo) {
  const DigestKey k = ParsedKey(Rec{}, 7);
  const DigestKeyV4 narrow = DigestKeyV4::Narrow(k);
  EXPECT_TRUE(narrow == DigestKeyV4::Narrow(ParsedKey(Rec{}, 7)));
  const std::vector<std::function<void(DigestKey&)>> changes = {
      [](DigestKey& o) { o.owner = 8; },
      [](DigestKey& o) { o.srcport = 1; },
      [](DigestKey& o) { o.dstport = 444; },
      [](DigestKey& o) { o.protocol = 17; },
      [](DigestKey& o) { o.flags ^= static_cast<uint8_t>(Action::kReject); },
      [](DigestKey& o) { o.src[0] ^= 0x80; },
      [](DigestKey& o) { o.src[3] ^= 1; },
      [](DigestKey& o) { o.dst[0] ^= 1; },
      [](DigestKey& o) { o.dst[3] ^= 0x80; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    DigestKey other = k;
    changes[i](other);
    ASSERT_TRUE(DigestKeyV4::Fits(other));
    EXPECT_FALSE(DigestKeyV4::Narrow(other) == narrow) << i;
    const DigestKey back = DigestKeyV4::Narrow(other).Widen();
    EXPECT_EQ(std::memcmp(&back, &other, sizeof(DigestKey)), 0) << i;
  }
}

// The finished table of `recs` merged as one object.
std::unique_ptr<DigestTable> TableOf(const std::vector<Rec>& recs) {
  auto table = std::make_unique<DigestTable>();
  RecordBatch batch;
  for (const Rec& r : recs) batch.Add(ToFlowRecord(r));
  table->Merge(batch);
  table->Finish();
  return table;
}

TEST(DigestTableTest, AggregatesRecordsOfOneKey) {
  Rec a;
  a.packets = 2;
  a.bytes = 200;
  a.start = 100;
  a.end = 160;
  Rec b = a;
  b.packets = 3;
  b.bytes = 50;
  b.start = 40;
  b.end = 120;
  Rec c = a;
  c.start = 130;
  c.end = 400;
  const auto table = TableOf({a, b, c});
  ASSERT_EQ(table->size(), 1u);
  const DigestValue v = table->row(0).value();
  EXPECT_EQ(v.packets, 7u);
  EXPECT_EQ(v.bytes, 450u);
  EXPECT_EQ(v.flows, 3u);
  EXPECT_EQ(v.start, 40);
  EXPECT_EQ(v.end, 400);
}

TEST(DigestTableTest, EveryKeyFieldSeparatesKeys) {
  Rec base;
  std::vector<Rec> recs(9, base);
  recs[1].account = "210987654321";
  recs[2].interface = "eni-other";
  recs[3].src = "10.0.0.3";
  recs[4].dst = "2001:db8::2";
  recs[5].srcport = 1;
  recs[6].dstport = 80;
  recs[7].protocol = 17;
  recs[8].action = Action::kReject;
  EXPECT_EQ(TableOf(recs)->size(), 9u);
}

TEST(DigestTableTest, Ipv4AndMappedIpv6AreDifferentKeys) {
  Rec v4;
  v4.src = "1.2.3.4";
  Rec mapped = v4;
  mapped.src = "::ffff:1.2.3.4";
  EXPECT_EQ(TableOf({v4, mapped})->size(), 2u);
}

// An object may hold a key many times: the merge looks a key up again once its batch of
// lookups added a row, so copies of one key inside one batch of 32 and across batches combine.
TEST(DigestTableTest, MergeCombinesAKeyRepeatedInOneObject) {
  RecordBatch batch;
  Rec repeated;
  repeated.bytes = 3;
  for (int i = 0; i < 100; ++i) {
    batch.Add(ToFlowRecord(repeated));
    Rec twice;
    twice.dstport = static_cast<uint16_t>(1000 + i % 50);
    batch.Add(ToFlowRecord(twice));
  }
  DigestTable table;
  table.Merge(batch);
  EXPECT_EQ(batch.size(), 0u);
  table.Finish();
  ASSERT_EQ(table.size(), 51u);
  EXPECT_EQ(table.row(0).value().bytes, 300u);
  EXPECT_EQ(table.row(0).value().flows, 100u);
  for (size_t i = 1; i < table.size(); ++i) ASSERT_EQ(table.row(i).value().flows, 2u) << i;
}

TEST(PartialDigestTest, GrowsAndClearsKeepingEveryKey) {
  PartialDigest partial;
  for (int round = 0; round < 2; ++round) {
    const uint32_t owner = partial.InternOwner("123456789012", "eni-1");
    for (int i = 0; i < 20000; ++i) {
      Rec r;
      r.dstport = static_cast<uint16_t>(i % 5000);
      r.srcport = static_cast<uint16_t>(i / 5000);
      DigestEntry e;
      e.key = MakeDigestKey(ToFlowRecord(r), owner);
      e.value.flows = 1;
      const size_t index = partial.AddEntry(e);
      ASSERT_EQ(partial.AddEntry(e), index);
      ASSERT_EQ(partial.Find(e.key), static_cast<int64_t>(index));
    }
    ASSERT_EQ(partial.size(), 20000u);
    for (const auto& e : partial.entries()) ASSERT_EQ(e.value.flows, 2u);
    partial.Clear();
    EXPECT_EQ(partial.size(), 0u);
  }
}

TEST(OwnerInternerTest, InternsEachPairOnceAndReadsItBack) {
  OwnerInterner owners;
  std::vector<uint32_t> ids;
  for (int i = 0; i < 3000; ++i) {
    const std::string eni = "eni-" + std::to_string(i);
    ids.push_back(owners.Intern("123456789012", eni, HashOwner("123456789012", eni)));
  }
  EXPECT_EQ(owners.size(), 3000u);
  EXPECT_EQ(std::set<uint32_t>(ids.begin(), ids.end()).size(), 3000u);
  for (int i = 0; i < 3000; ++i) {
    const std::string eni = "eni-" + std::to_string(i);
    ASSERT_EQ(owners.Intern("123456789012", eni, HashOwner("123456789012", eni)), ids[i]);
    ASSERT_EQ(owners.account(ids[i]), "123456789012");
    ASSERT_EQ(owners.interface(ids[i]), eni);
  }
  // Iteration visits the ids in insertion order; extra is per record.
  std::vector<uint32_t> seen;
  for (uint32_t id = 0; id < owners.end_id(); id = owners.next_id(id)) {
    owners.set_extra(id, static_cast<uint32_t>(seen.size()));
    seen.push_back(id);
  }
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(owners.extra(ids[1234]), 1234u);
  EXPECT_EQ(owners.interface(ids[1234]), "eni-1234");
}

// SameBytes reads by overlapping words: every length, with a difference at every position
// (and both ends of a longer buffer), must compare as memcmp does.
TEST(OwnerInternerTest, SameBytesComparesEveryLengthAndPosition) {
  std::string a(48, 'x');
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<char>('a' + i % 26);
  for (size_t n = 0; n <= 40; ++n) {
    std::string b = a;
    ASSERT_TRUE(SameBytes(a.data() + 3, b.data() + 3, n)) << n;
    for (size_t at = 0; at < n; ++at) {
      b = a;
      b[3 + at] ^= 0x40;
      ASSERT_FALSE(SameBytes(a.data() + 3, b.data() + 3, n)) << n << " " << at;
    }
    // Bytes outside the n compared do not count.
    b = a;
    b[2] ^= 1;
    b[3 + n] ^= 1;
    ASSERT_TRUE(SameBytes(a.data() + 3, b.data() + 3, n)) << n;
  }
}

TEST(OwnerInternerTest, IsTellsPairsApartByEitherString) {
  OwnerInterner owners;
  const std::string account = "228571152142";
  const std::string eni = "eni-bdc512006933e4242";
  const uint32_t id = owners.Intern(account, eni, HashOwner(account, eni));
  EXPECT_TRUE(owners.Is(id, account, eni));
  for (size_t i = 0; i < eni.size(); ++i) {
    std::string other = eni;
    other[i] = other[i] == '0' ? '1' : '0';
    EXPECT_FALSE(owners.Is(id, account, other)) << i;
  }
  for (size_t i = 0; i < account.size(); ++i) {
    std::string other = account;
    other[i] = other[i] == '0' ? '1' : '0';
    EXPECT_FALSE(owners.Is(id, other, eni)) << i;
  }
  EXPECT_FALSE(owners.Is(id, account + "3", eni.substr(0, eni.size() - 1) + "2"));
}

TEST(OwnerInternerTest, SeparatesPairsThatConcatenateAlike) {
  OwnerInterner owners;
  const uint32_t a = owners.Intern("ab", "c", HashOwner("ab", "c"));
  const uint32_t b = owners.Intern("a", "bc", HashOwner("a", "bc"));
  const uint32_t empty = owners.Intern("", "", HashOwner("", ""));
  EXPECT_NE(a, b);
  EXPECT_NE(b, empty);
  EXPECT_EQ(owners.account(b), "a");
  EXPECT_EQ(owners.interface(empty), "");
  owners.Clear();
  EXPECT_EQ(owners.size(), 0u);
  EXPECT_EQ(owners.end_id(), 0u);
  EXPECT_EQ(owners.account(owners.Intern("x", "y", HashOwner("x", "y"))), "x");
}

TEST(OwnerInternerTest, RanksPairsByAccountThenInterface) {
  OwnerInterner owners;
  // "ab"/"c" and "a"/"bc" concatenate alike; the pair order is the account's first.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"b", "a"}, {"ab", "c"}, {"a", "bc"}, {"a", "b"}, {"", "z"}};
  std::vector<uint32_t> ids;
  for (const auto& [account, interface] : pairs) {
    ids.push_back(owners.Intern(account, interface, HashOwner(account, interface)));
  }
  const std::vector<uint32_t> ranked = owners.RankByPair();
  // ("", z) < (a, b) < (a, bc) < (ab, c) < (b, a)
  EXPECT_EQ(ranked, (std::vector<uint32_t>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
  for (uint32_t rank = 0; rank < ranked.size(); ++rank) EXPECT_EQ(owners.extra(ranked[rank]), rank);
}

// How many (account, interface) pairs the rows of a finished table name.
size_t DistinctRowOwners(const DigestTable& table) {
  std::set<uint32_t> owners;
  for (size_t i = 0; i < table.size(); ++i) owners.insert(table.row(i).owner());
  return owners.size();
}

TEST(DigestTableTest, InternsOwnersOncePerPair) {
  DigestTable table;
  const uint32_t a = table.InternOwner("111111111111", "eni-a");
  const uint32_t b = table.InternOwner("111111111111", "eni-b");
  const uint32_t c = table.InternOwner("222222222222", "eni-a");
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(table.InternOwner("111111111111", "eni-a"), a);
  EXPECT_EQ(table.account_id(c), "222222222222");
  EXPECT_EQ(table.interface_id(c), "eni-a");
}

TEST(DigestTableTest, MergeCombinesPartialsAndClearsThem) {
  DigestTable table;
  RecordBatch p1, p2;
  Rec shared;
  Rec only1 = shared;
  only1.dstport = 22;
  Rec only2 = shared;
  only2.interface = "eni-two";
  p1.Add(ToFlowRecord(shared));
  p1.Add(ToFlowRecord(only1));
  p2.Add(ToFlowRecord(shared));
  p2.Add(ToFlowRecord(only2));
  table.Merge(p1);
  table.Merge(p2);
  EXPECT_EQ(p1.size(), 0u);
  EXPECT_EQ(p2.size(), 0u);
  table.Finish();
  ASSERT_EQ(table.size(), 3u);
  // bytes: shared 200, the others 100 each.
  EXPECT_EQ(table.row_bytes(0), 200u);
  EXPECT_EQ(table.row(0).value().flows, 2u);
  EXPECT_EQ(table.row_bytes(1), 100u);
  EXPECT_EQ(table.row_bytes(2), 100u);
}

TEST(DigestTableTest, MergeMapsEachPartialsOwnersToTheSameGlobalOwners) {
  DigestTable table;
  RecordBatch p1, p2;
  // The partials meet the owners in different orders, so their local ids differ.
  for (int i = 0; i < 500; ++i) {
    Rec r;
    r.interface = "eni-" + std::to_string(i);
    p1.Add(ToFlowRecord(r));
    r.interface = "eni-" + std::to_string(499 - i);
    p2.Add(ToFlowRecord(r));
  }
  table.Merge(p1);
  table.Merge(p2);
  table.Finish();
  ASSERT_EQ(table.size(), 500u);
  EXPECT_EQ(DistinctRowOwners(table), 500u);
  std::set<std::string> enis;
  for (size_t i = 0; i < table.size(); ++i) {
    const DigestEntry row = table.row(i).entry();
    EXPECT_EQ(row.value.flows, 2u);
    EXPECT_EQ(table.account_id(row.key.owner), "123456789012");
    enis.insert(std::string(table.interface_id(row.key.owner)));
  }
  EXPECT_EQ(enis.size(), 500u);
}

// The shared index filters candidates by 32 bits of the hash: two keys of one shard that share
// them must still be two rows.
TEST(DigestTableTest, KeysSharingIndexHashBitsStayApart) {
  // The table interns the only owner as id 0 and partials too, so keys built with owner 0 hash
  // as the merged keys will. Search addresses for a pair sharing the shard and the low 32 bits.
  auto key_of = [](uint32_t i) {
    Rec r;
    r.src = "10." + std::to_string(i >> 16 & 255) + "." + std::to_string(i >> 8 & 255) + "." +
            std::to_string(i & 255);
    return r;
  };
  std::unordered_map<uint64_t, uint32_t> seen;
  std::pair<uint32_t, uint32_t> pair{0, 0};
  for (uint32_t i = 0; i < (1u << 22) && pair.first == pair.second; ++i) {
    DigestKey k;
    IpAddress a;
    ASSERT_TRUE(ParseIpAddress(key_of(i).src, &a));
    k.src = a.bytes;
    ASSERT_TRUE(ParseIpAddress("10.0.0.2", &a));
    k.dst = a.bytes;
    k.dstport = 443;
    k.protocol = 6;
    k.flags = static_cast<uint8_t>(Action::kAccept) | DigestKey::kSrcV4 | DigestKey::kDstV4;
    const uint64_t h = HashDigestKey(k);
    const uint64_t bits = (h >> (64 - DigestTable::kShardBits)) << 32 | (h & 0xffffffff);
    auto [it, inserted] = seen.emplace(bits, i);
    if (!inserted) pair = {it->second, i};
  }
  ASSERT_NE(pair.first, pair.second);
  DigestTable table;
  RecordBatch p1, p2;
  Rec a = key_of(pair.first);
  a.bytes = 5;
  Rec b = key_of(pair.second);
  b.bytes = 2;
  p1.Add(ToFlowRecord(a));
  table.Merge(p1);
  p2.Add(ToFlowRecord(b));
  p2.Add(ToFlowRecord(a));
  table.Merge(p2);
  table.Finish();
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table.row(0).value().bytes, 10u);
  EXPECT_EQ(table.row(0).value().flows, 2u);
  EXPECT_EQ(table.row(1).value().bytes, 2u);
  EXPECT_EQ(table.row(1).value().flows, 1u);
}

TEST(DigestTableTest, FinishOrdersByBytesDescending) {
  DigestTable table;
  RecordBatch partial;
  for (uint64_t bytes : {5, 900, 17, 900000, 0, 64}) {
    Rec r;
    r.bytes = bytes;
    r.dstport = static_cast<uint16_t>(bytes % 65536);
    partial.Add(ToFlowRecord(r));
  }
  table.Merge(partial);
  table.Finish();
  std::vector<uint64_t> order;
  for (size_t i = 0; i < table.size(); ++i) order.push_back(table.row(i).value().bytes);
  EXPECT_THAT(order, ::testing::ElementsAre(900000, 900, 64, 17, 5, 0));
}

TEST(DigestTableTest, FinishOrdersLargeCountsAcrossEveryDigit) {
  DigestTable table;
  RecordBatch partial;
  const std::vector<uint64_t> values = {3,
                                        2047,
                                        2048,
                                        uint64_t{1} << 50,
                                        (uint64_t{1} << 50) + 1,
                                        UINT64_MAX,
                                        UINT64_MAX - 2048,
                                        0,
                                        uint64_t{1} << 33};
  for (size_t i = 0; i < values.size(); ++i) {
    Rec r;
    r.bytes = values[i];
    r.dstport = static_cast<uint16_t>(i);
    partial.Add(ToFlowRecord(r));
  }
  table.Merge(partial);
  table.Finish();
  std::vector<uint64_t> order;
  for (size_t i = 0; i < table.size(); ++i) {
    order.push_back(table.row(i).value().bytes);
    EXPECT_EQ(table.row_bytes(i), order.back());
  }
  std::vector<uint64_t> expected = values;
  std::sort(expected.rbegin(), expected.rend());
  EXPECT_EQ(order, expected);
}

TEST(DigestTableTest, ConcurrentMergesAreExact) {
  DigestTable table;
  constexpr int kThreads = 4;
  constexpr int kObjects = 20;
  constexpr int kKeys = 3000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&table, t] {
      RecordBatch partial;
      for (int o = 0; o < kObjects; ++o) {
        for (int k = 0; k < kKeys; ++k) {
          Rec r;
          r.interface = "eni-" + std::to_string(k % 7);
          r.dstport = static_cast<uint16_t>(k);
          r.bytes = 1;
          r.packets = static_cast<uint64_t>(t + 1);
          partial.Add(ToFlowRecord(r));
        }
        table.Merge(partial);
      }
    });
  }
  for (auto& t : threads) t.join();
  table.Finish();
  ASSERT_EQ(table.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(DistinctRowOwners(table), 7u);
  for (size_t i = 0; i < table.size(); ++i) {
    const DigestValue v = table.row(i).value();
    ASSERT_EQ(v.flows, static_cast<uint64_t>(kThreads * kObjects));
    ASSERT_EQ(v.bytes, static_cast<uint64_t>(kThreads * kObjects));
    ASSERT_EQ(v.packets, static_cast<uint64_t>(kObjects * (1 + 2 + 3 + 4)));
  }
}

TEST(DigestTest, RowsCarryOwnerAndAddressText) {
  Rec r;
  r.account = "-";
  r.interface = "-";
  r.src = "2001:DB8:0:0:0:0:0:1";
  r.dst = "192.168.0.1";
  r.action = Action::kAbsent;
  const Digest digest = testing_records::MakeDigest(std::vector<Rec>{r});
  const std::vector<OwnedRow> rows = Rows(digest);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].account_id, "-");
  EXPECT_EQ(rows[0].interface_id, "-");
  EXPECT_EQ(rows[0].srcaddr, "2001:db8::1");
  EXPECT_EQ(rows[0].dstaddr, "192.168.0.1");
  EXPECT_EQ(rows[0].action, "-");
  EXPECT_EQ(rows[0].dstport, 443u);
  EXPECT_EQ(rows[0].flows, 1u);
}

TEST(DigestTest, DefaultIsEmpty) {
  Digest digest;
  EXPECT_EQ(digest.size(), 0u);
  int calls = 0;
  EXPECT_TRUE(digest.ForEachRow([&](const DigestRow&) { ++calls; }).ok());
  EXPECT_EQ(calls, 0);
}

// Rows of both forms (both addresses IPv4: 64 bytes; any IPv6: 88) merged over two objects,
// each key met in both: every row keeps its exact key, and its value at the limits of its fields.
TEST(DigestTableTest, RowsOfEveryAddressFormKeepTheirExactKeysAndValues) {
  const std::vector<std::pair<std::string, std::string>> addresses = {
      {"10.0.0.1", "10.0.0.2"},        {"10.0.0.1", "2001:db8::2"},
      {"2001:db8::1", "10.0.0.2"},     {"2001:db8::1", "2001:db8::2"},
      {"::ffff:10.0.0.1", "10.0.0.2"}, {"0.0.0.0", "255.255.255.255"},
  };
  const size_t n = addresses.size();
  DigestTable table;
  RecordBatch first, second;
  std::vector<DigestKey> keys;
  for (size_t i = 0; i < n; ++i) {
    Rec r;
    std::tie(r.src, r.dst) = addresses[i];
    r.bytes = 1000 + i;  // each key its own place in the output order
    r.packets = UINT64_MAX - 1;
    r.start = INT64_MIN + 1;
    r.end = INT64_MAX - 1;
    first.Add(ToFlowRecord(r));
    keys.push_back(ParsedKey(r, 0));
    r.bytes = UINT64_MAX - 2000;
    r.packets = 1;
    r.start = INT64_MIN;
    r.end = INT64_MAX;
    second.Add(ToFlowRecord(r));
  }
  // An IPv4 key with a byte past the fourth (no parser makes one): a row apart, kept whole.
  Rec t;
  t.bytes = 1;
  FlowRecord tail = ToFlowRecord(t);
  tail.srcaddr.bytes[15] = 1;
  second.Add(tail);
  const DigestKey tail_key = MakeDigestKey(tail, 0);
  table.Merge(first);
  table.Merge(second);
  table.Finish();
  ASSERT_EQ(table.size(), n + 1);
  for (size_t i = 0; i < n; ++i) {
    const size_t k = n - 1 - i;  // bytes descending
    const RowRef row = table.row(i);
    DigestEntry e = row.entry();
    EXPECT_EQ(row.wide(), !DigestKeyV4::Fits(keys[k])) << k;
    EXPECT_EQ(e.key.owner, row.owner());
    e.key.owner = 0;
    EXPECT_EQ(std::memcmp(&e.key, &keys[k], sizeof(DigestKey)), 0) << k;
    EXPECT_EQ(e.value.bytes, UINT64_MAX - 1000 + k);
    EXPECT_EQ(e.value.packets, UINT64_MAX);
    EXPECT_EQ(e.value.flows, 2u);
    EXPECT_EQ(e.value.start, INT64_MIN);
    EXPECT_EQ(e.value.end, INT64_MAX);
  }
  EXPECT_EQ(std::count_if(keys.begin(), keys.end(), DigestKeyV4::Fits), 2);
  const RowRef last = table.row(n);
  EXPECT_TRUE(last.wide());
  DigestEntry e = last.entry();
  e.key.owner = 0;
  EXPECT_EQ(std::memcmp(&e.key, &tail_key, sizeof(DigestKey)), 0);
  EXPECT_EQ(e.value.flows, 1u);
}

// The spill order is the wide keys' byte order, whichever form each row has: IPv4 keys and IPv6
// keys that share their first 4 bytes (10.0.0.x and a00::) interleave.
TEST(DigestTableTest, KeyOrderIsTheWideKeysOrderWhateverTheirForms) {
  DigestTable table;
  RecordBatch batch;
  std::set<std::string> distinct;
  std::mt19937 rng(7);
  for (int i = 0; i < 4000; ++i) {
    Rec r;
    const std::string host = std::to_string(rng() % 4);
    r.src = rng() % 2 ? "10.0.0." + host : "a00::" + host;
    r.dst = rng() % 2 ? "10.0.1." + host : "a00:1::" + host;
    r.srcport = static_cast<uint16_t>(rng() % 3);
    r.dstport = static_cast<uint16_t>(rng() % 3);
    const DigestKey key = ParsedKey(r, 0);
    distinct.insert(std::string(reinterpret_cast<const char*>(&key), sizeof(key)));
    batch.Add(ToFlowRecord(r));
  }
  table.Merge(batch);
  ASSERT_EQ(table.rows_added(), distinct.size());
  std::vector<std::string> seen;
  ASSERT_TRUE(table
                  .ForEachInKeyOrder([&](const DigestEntry& e) {
                    DigestKey key = e.key;
                    key.owner = 0;
                    seen.emplace_back(reinterpret_cast<const char*>(&key), sizeof(key));
                    return OkStatus();
                  })
                  .ok());
  // std::string compares as unsigned bytes, as memcmp does.
  EXPECT_EQ(seen, std::vector<std::string>(distinct.begin(), distinct.end()));
}

}  // namespace
}  // namespace vpcflow
