// RecordBatch: the bound of a batch made with max_bytes, and its rows drained in the key order
// of runs with equal keys combined.
#include "digest/record_batch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "digest/partial_run.hpp"
#include "digest/test_records.hpp"
#include "flowlog/address.hpp"
#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using testing_records::Rec;
using testing_records::ToFlowRecord;

IpAddress Ip(std::string_view text) {
  IpAddress a;
  EXPECT_TRUE(ParseIpAddress(text, &a)) << text;
  return a;
}

struct Drained {
  std::string account;
  std::string interface;
  DigestEntry entry;
};

std::vector<Drained> Drain(RecordBatch& batch) {
  std::vector<Drained> rows;
  EXPECT_OK(batch.DrainInKeyOrder(
      [&](std::string_view account, std::string_view interface, const DigestEntry& e) {
        rows.push_back({std::string(account), std::string(interface), e});
        return OkStatus();
      }));
  return rows;
}

TEST(RecordBatchTest, DrainInKeyOrderCombinesEqualKeysInTheOrderOfRuns) {
  RecordBatch batch;
  // Owners interned in an order other than their names' (eni-b before eni-a), keys repeated
  // across owners, and a key met three times.
  std::vector<Rec> records;
  for (const char* interface : {"eni-b", "eni-a"}) {
    for (const char* src : {"10.0.0.9", "10.0.0.1", "192.168.0.1", "10.0.0.9"}) {
      Rec r;
      r.interface = interface;
      r.src = src;
      r.bytes = 100;
      records.push_back(r);
    }
  }
  Rec later = records[0];  // eni-b 10.0.0.9 once more, with another time
  later.start -= 60;
  later.bytes = 5;
  records.push_back(later);
  for (const Rec& r : records) batch.Add(ToFlowRecord(r));
  ASSERT_EQ(batch.size(), records.size());

  const std::vector<Drained> rows = Drain(batch);
  EXPECT_EQ(batch.size(), 0u);
  ASSERT_EQ(rows.size(), 6u);  // 3 keys of each interface
  for (size_t i = 1; i < rows.size(); ++i) {
    const KeyedRow a{rows[i - 1].account, rows[i - 1].interface, rows[i - 1].entry.key, {}};
    const KeyedRow b{rows[i].account, rows[i].interface, rows[i].entry.key, {}};
    EXPECT_LT(CompareRowKeys(a, b), 0) << "rows " << i - 1 << " and " << i;
  }
  EXPECT_EQ(rows[0].interface, "eni-a");
  EXPECT_TRUE(rows[0].entry.key.srcaddr() == Ip("10.0.0.1"));
  EXPECT_TRUE(rows[1].entry.key.srcaddr() == Ip("10.0.0.9"));
  EXPECT_EQ(rows[1].entry.value.bytes, 200u);
  EXPECT_EQ(rows[1].entry.value.flows, 2u);
  EXPECT_EQ(rows[5].interface, "eni-b");
  EXPECT_TRUE(rows[5].entry.key.srcaddr() == Ip("192.168.0.1"));
  const DigestValue& thrice = rows[4].entry.value;  // eni-b 10.0.0.9
  EXPECT_EQ(thrice.bytes, 205u);
  EXPECT_EQ(thrice.flows, 3u);
  EXPECT_EQ(thrice.start, later.start);
  EXPECT_EQ(thrice.end, later.end);

  // Emptied and reusable.
  batch.Add(ToFlowRecord(records[0]));
  EXPECT_EQ(Drain(batch).size(), 1u);
}

// Rows drained from one batch (as a pending run holds them) and added to another by AddEntry
// drain again as the same rows: owners re-interned, keys and values (flows, times) as they were,
// equal keys combined again.
TEST(RecordBatchTest, RowsAddedByAddEntryDrainAsTheyWereDrained) {
  RecordBatch first;
  std::vector<Rec> records;
  for (const char* interface : {"eni-b", "eni-a"}) {
    for (const char* src : {"10.0.0.9", "2001:db8::1", "10.0.0.9"}) {
      Rec r;
      r.interface = interface;
      r.src = src;
      r.bytes = 100;
      records.push_back(r);
    }
  }
  for (const Rec& r : records) first.Add(ToFlowRecord(r));
  const std::vector<Drained> rows = Drain(first);
  ASSERT_EQ(rows.size(), 4u);

  RecordBatch second;
  for (const Drained& row : rows) {
    DigestEntry e = row.entry;
    e.key.owner = 12345;  // ignored
    second.AddEntry(row.account, row.interface, e);
  }
  const std::vector<Drained> again = Drain(second);
  ASSERT_EQ(again.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(again[i].account, rows[i].account);
    EXPECT_EQ(again[i].interface, rows[i].interface);
    EXPECT_EQ(std::memcmp(&again[i].entry.value, &rows[i].entry.value, sizeof(DigestValue)), 0);
    DigestKey a = again[i].entry.key, b = rows[i].entry.key;
    a.owner = b.owner = 0;
    EXPECT_TRUE(a == b) << i;
  }
  EXPECT_EQ(again[0].entry.value.flows, 2u);  // eni-a 10.0.0.9 twice

  // The same rows twice: combined.
  for (int n = 0; n < 2; ++n) {
    for (const Drained& row : rows) second.AddEntry(row.account, row.interface, row.entry);
  }
  const std::vector<Drained> doubled = Drain(second);
  ASSERT_EQ(doubled.size(), rows.size());
  EXPECT_EQ(doubled[0].entry.value.flows, 4u);
  EXPECT_EQ(doubled[0].entry.value.bytes, 400u);
}

// Add writes every byte of a record's entry (the batch's array does not zero its slots): slots
// reused after Clear, which held keys with no zero byte, must hold only the new records' keys.
TEST(RecordBatchTest, ReusedSlotsHoldOnlyTheNewRecordsBytes) {
  RecordBatch batch;
  const Rec wide{.src = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                 .dst = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
                 .srcport = 65535,
                 .dstport = 65535,
                 .protocol = 255,
                 .packets = ~uint64_t{0} >> 1,
                 .bytes = ~uint64_t{0} >> 1};
  for (int i = 0; i < 3000; ++i) batch.Add(ToFlowRecord(wide));
  batch.Clear();
  // Zero in every field that can be.
  Rec narrow{.src = "10.0.0.1", .dst = "0.0.0.0", .srcport = 0, .dstport = 0, .protocol = 0};
  narrow.packets = narrow.bytes = 0;
  narrow.start = narrow.end = 0;
  for (int i = 0; i < 3000; ++i) batch.Add(ToFlowRecord(narrow));
  const std::vector<Drained> rows = Drain(batch);
  ASSERT_EQ(rows.size(), 1u);
  DigestKey expected = MakeDigestKey(ToFlowRecord(narrow), 0);
  DigestKey got = rows[0].entry.key;
  got.owner = 0;
  EXPECT_EQ(std::memcmp(&got, &expected, sizeof(got)), 0);
  EXPECT_EQ(rows[0].entry.value.flows, 3000u);
  EXPECT_EQ(rows[0].entry.value.packets, 0u);
  EXPECT_EQ(rows[0].entry.value.bytes, 0u);
  EXPECT_EQ(rows[0].entry.value.start, 0);
  EXPECT_EQ(rows[0].entry.value.end, 0);
}

TEST(RecordBatchTest, DrainStopsAtTheFirstErrorAndStillEmptiesTheBatch) {
  RecordBatch batch;
  for (int i = 0; i < 10; ++i) {
    Rec r;
    r.srcport = static_cast<uint16_t>(i + 1);
    batch.Add(ToFlowRecord(r));
  }
  int calls = 0;
  EXPECT_THAT(batch.DrainInKeyOrder([&](std::string_view, std::string_view, const DigestEntry&) {
    ++calls;
    return ResourceExhaustedError("disk full");
  }),
              StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(batch.size(), 0u);
}

TEST(RecordBatchTest, ABoundedBatchIsFullBeforeItHoldsMoreThanItsBytes) {
  constexpr size_t kMax = size_t{256} << 10;
  RecordBatch batch(kMax);
  size_t records = 0;
  Rec r;
  for (; !batch.full(); ++records) {
    r.srcport = static_cast<uint16_t>(records);
    batch.Add(ToFlowRecord(r));
    ASSERT_LE(batch.memory_bytes(), kMax) << "after " << records + 1 << " records";
  }
  // The records' part is 5/8 of the bytes: the batch fills it before it is full.
  EXPECT_GE(records * RecordBatch::kRecordBytes, kMax / 2);
  (void)Drain(batch);
  EXPECT_FALSE(batch.full());
  EXPECT_LE(batch.memory_bytes(), kMax);

  // A new owner on every record (long interface ids): full by its owners, still within bounds.
  RecordBatch owners(kMax);
  size_t n = 0;
  for (; !owners.full(); ++n) {
    r.interface = "eni-" + std::string(200, 'x') + std::to_string(n);
    owners.Add(ToFlowRecord(r));
    ASSERT_LE(owners.memory_bytes(), kMax) << "after " << n + 1 << " owners";
  }
  EXPECT_LT(n * RecordBatch::kRecordBytes, kMax / 2);  // it was the owners that filled it
}

TEST(RecordBatchTest, AnUnboundedBatchIsNeverFull) {
  RecordBatch batch;
  Rec r;
  for (int i = 0; i < 5000; ++i) {
    r.srcport = static_cast<uint16_t>(i);
    batch.Add(ToFlowRecord(r));
  }
  EXPECT_FALSE(batch.full());
  EXPECT_EQ(batch.size(), 5000u);
}

}  // namespace
}  // namespace vpcflow
