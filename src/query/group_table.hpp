#pragma once
/// Grouping rows for a query: group_by (key fields kept, addresses cut to a prefix) and
/// conversations (A->B and B->A of the same ports, protocol and other kept fields merged, the
/// lower end first, with what each end sent). Values are summed, start kept as the minimum and
/// end as the maximum (DigestValue::Add).
///
/// Memory is proportional to the number of groups (a DigestEntry, about 100 bytes, each).
/// Not thread-safe.

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "digest/digest_table.hpp"
#include "query/query_spec.hpp"
#include "query/result_writer.hpp"

namespace vpcflow {

class GroupTable {
 public:
  /// Groups by `spec.group_by` (every key field when it is empty, so `conversation` alone merges
  /// only the two directions of a row), as conversations when `spec.conversation`. `has_flows`:
  /// whether the rows added carry flows.
  GroupTable(const QuerySpec& spec, bool has_flows);

  /// Adds a row to its group. Rows wait in a short queue before they reach the table (so that
  /// the table's memory they touch is loaded meanwhile): call Finish() after the last one.
  void Add(const RowView& row);
  /// Adds the rows still queued. Call it before reading the groups (what follows).
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
  std::vector<std::pair<uint64_t, uint64_t>> dst_sent_;  // per group: packets, bytes

  // Rows built but not added yet, oldest at pending_head_: each row's slot is prefetched when it
  // is queued, its entry half-way, and it is added kLag rows later (a table of millions of
  // groups otherwise waits for two cache misses at every row).
  struct Pending {
    DigestEntry entry;
    uint64_t hash = 0;
    bool reversed = false;
  };
  static constexpr size_t kLag = 16;
  void Insert(const Pending& p);
  std::array<Pending, kLag> pending_{};
  size_t pending_head_ = 0;
  size_t pending_count_ = 0;
};

}  // namespace vpcflow
