#pragma once
/// Grouping rows for a query: group_by (key fields kept, addresses cut to a prefix) and
/// conversations (A->B and B->A of the same ports, protocol and other kept fields merged, the
/// lower end first, with what each end sent). Values are summed, start kept as the minimum and
/// end as the maximum (DigestValue::Add).
///
/// Memory is proportional to the number of groups (a DigestEntry, about 100 bytes, each), plus
/// two batches of rows in flight. Not thread-safe (it runs one thread of its own while rows are
/// added, stopped by Finish() or the destructor).

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "digest/digest_table.hpp"
#include "digest/page_blocks.hpp"
#include "digest/partial_digest.hpp"
#include "query/query_spec.hpp"
#include "query/result_writer.hpp"

namespace vpcflow {

class GroupTable {
 public:
  /// Groups by `spec.group_by` (every key field when it is empty, so `conversation` alone merges
  /// only the two directions of a row), as conversations when `spec.conversation`. `has_flows`:
  /// whether the rows added carry flows.
  GroupTable(const QuerySpec& spec, bool has_flows);
  ~GroupTable();
  GroupTable(const GroupTable&) = delete;
  GroupTable& operator=(const GroupTable&) = delete;

  /// Adds a row to its group. The row's group key is built here; rows then go in batches to a
  /// second thread that adds them to the table (the table's cache misses and page faults are
  /// most of a grouping's time), so call Finish() after the last one.
  void Add(const RowView& row);
  /// Adds the rows still in flight and stops the second thread. Call it before reading the
  /// groups (what follows). Throws std::bad_alloc as Add would when the table cannot grow.
  void Finish();
  /// The groups, in the order they were first seen.
  size_t size() const { return table_.entries().size(); }
  const DigestEntry& entry(size_t i) const { return table_.entries()[i]; }
  /// The index of the group of `key` (a key from another GroupTable of the same spec, whose
  /// owner is `account` / `interface`), or -1.
  int64_t Find(DigestKey key, std::string_view account, std::string_view interface);
  /// The group as a result row (views valid while the table lives and is not changed).
  ResultRow Row(size_t i) const;
  /// Orders group i of `a` before group j of `b` (tables of the same spec): by key fields in
  /// order (account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, action),
  /// addresses IPv4 first then by value.
  static bool KeyLess(const GroupTable& a, size_t i, const GroupTable& b, size_t j);
  std::string_view account(size_t i) const { return table_.owners().account(entry(i).key.owner); }
  std::string_view interface(size_t i) const {
    return table_.owners().interface(entry(i).key.owner);
  }

 private:
  uint16_t fields_;
  GroupBy group_by_;
  bool conversation_;
  bool has_flows_;
  PartialDigest table_;
  uint32_t no_owner_;  // the owner of groups that keep neither account_id nor interface_id
  // Per group: packets, bytes (huge pages when large, as the table's entries).
  std::vector<std::pair<uint64_t, uint64_t>, HugePageAllocator<std::pair<uint64_t, uint64_t>>>
      dst_sent_;

  // A row whose group key is built, waiting to be added.
  struct Pending {
    DigestEntry entry;
    uint64_t hash = 0;
    bool reversed = false;
  };
  static constexpr size_t kBatch = 4096;
  // Groups whose room is reserved (address space, about 1 GB, not memory: see the constructor).
  static constexpr size_t kReservedGroups = size_t{1} << 23;
  // Adds a batch, prefetching each row's slot kLag rows ahead and its entry half-way (a table
  // of millions of groups otherwise waits for two cache misses at every row).
  static constexpr size_t kLag = 16;
  void InsertBatch(const std::vector<Pending>& batch);
  void Insert(const Pending& p);
  // Hands filling_ to the inserter (started on the first full batch), after the previous one;
  // inserts it on the caller's thread when the inserter cannot start.
  void HandOff();
  void InserterLoop();
  // Waits for the batch in flight, then stops the inserter (if it was started).
  void StopInserter();

  std::vector<Pending> filling_;  // built by Add
  // The inserter's batch; `inserting_` while it works on it. Only filling_ and the owner
  // interner are touched by Add's thread meanwhile, only the rest of table_ by the inserter.
  std::vector<Pending> handed_;
  bool inserting_ = false;
  bool stopping_ = false;
  std::exception_ptr failure_;
  bool insert_inline_ = false;  // the inserter could not start: Add's thread inserts
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread inserter_;
};

}  // namespace vpcflow
