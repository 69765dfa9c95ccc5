#include "query/group_table.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <system_error>
#include <tuple>

namespace vpcflow {
namespace {

// Keeps the first `bits` bits of the address's bytes.
void CutAddress(std::array<uint8_t, 16>& bytes, bool v4, uint8_t bits) {
  const size_t size = v4 ? 4 : 16;
  for (size_t i = 0; i < size; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (first_bit >= bits) {
      bytes[i] = 0;
    } else if (first_bit + 8 > bits) {
      bytes[i] &= static_cast<uint8_t>(0xff << (first_bit + 8 - bits));
    }
  }
}

// Orders addresses: IPv4 before IPv6, then by value.
int CompareAddress(const std::array<uint8_t, 16>& a, bool a_v4, const std::array<uint8_t, 16>& b,
                   bool b_v4) {
  if (a_v4 != b_v4) return a_v4 ? -1 : 1;
  return std::memcmp(a.data(), b.data(), 16);
}

}  // namespace

GroupTable::GroupTable(const QuerySpec& spec, bool has_flows)
    : fields_(spec.group_by.fields != 0 ? spec.group_by.fields : kAllRowFields),
      group_by_(spec.group_by),
      conversation_(spec.conversation),
      has_flows_(has_flows),
      no_owner_(table_.InternOwner("", "")) {
  filling_.reserve(kBatch);
  handed_.reserve(kBatch);
  // Growing by doubling copies the groups into fresh pages that the kernel zeroes: with
  // millions of groups that was a quarter of a query's time. Room reserved up front is only
  // address space until used; where it cannot be mapped, the table grows as usual.
  try {
    table_.Reserve(kReservedGroups);
    dst_sent_.reserve(kReservedGroups);
  } catch (const std::bad_alloc&) {
  }
}

void GroupTable::Add(const RowView& row) {
  const FlowRecord& r = row.record;
  const uint16_t f = fields_;
  DigestEntry e;
  DigestKey& k = e.key;
  // A field left out is "" (a literal, never a null view: memcmp of a null pointer, even for
  // 0 bytes, costs a fault-suppression assist on AVX-512 machines at every row).
  static constexpr std::string_view kLeftOut = "";
  k.owner = (f & (kRowAccount | kRowInterface)) == 0
                ? no_owner_
                : table_.InternOwner((f & kRowAccount) ? r.account_id : kLeftOut,
                                     (f & kRowInterface) ? r.interface_id : kLeftOut);
  uint8_t flags =
      DigestKey::Flags((f & kRowAction) ? r.action : Action::kAbsent,
                       (f & kRowSrcAddr) && r.srcaddr.v4, (f & kRowDstAddr) && r.dstaddr.v4);
  if (f & kRowSrcAddr) {
    k.src = r.srcaddr.bytes;
    CutAddress(k.src, r.srcaddr.v4, r.srcaddr.v4 ? group_by_.src_v4_bits : group_by_.src_v6_bits);
  }
  if (f & kRowDstAddr) {
    k.dst = r.dstaddr.bytes;
    CutAddress(k.dst, r.dstaddr.v4, r.dstaddr.v4 ? group_by_.dst_v4_bits : group_by_.dst_v6_bits);
  }
  if (f & kRowSrcPort) k.srcport = r.srcport;
  if (f & kRowDstPort) k.dstport = r.dstport;
  if (f & kRowProtocol) k.protocol = r.protocol;
  k.flags = flags;
  // A conversation's key has the lower (address, port) end first; a row from the higher end
  // counts as sent by the dstaddr end.
  bool reversed = false;
  if (conversation_) {
    const int c =
        CompareAddress(k.src, flags & DigestKey::kSrcV4, k.dst, flags & DigestKey::kDstV4);
    if (c > 0 || (c == 0 && k.srcport > k.dstport)) {
      reversed = true;
      std::swap(k.src, k.dst);
      std::swap(k.srcport, k.dstport);
      const uint8_t v4 = flags & (DigestKey::kSrcV4 | DigestKey::kDstV4);
      k.flags = static_cast<uint8_t>((flags & ~v4) | ((v4 & DigestKey::kSrcV4) << 1) |
                                     ((v4 & DigestKey::kDstV4) >> 1));
    }
  }
  e.value = {r.packets, r.bytes, row.flows, r.start, r.end};
  filling_.push_back({e, HashDigestKey(k), reversed});
  if (filling_.size() == kBatch) HandOff();
}

void GroupTable::HandOff() {
  if (!inserter_.joinable() && !insert_inline_) {
    try {
      inserter_ = std::thread([this] { InserterLoop(); });
    } catch (const std::system_error&) {
      insert_inline_ = true;  // no thread to spare: Add's thread inserts its batches
    }
  }
  if (insert_inline_) {
    try {
      if (!failure_) InsertBatch(filling_);
    } catch (...) {  // std::bad_alloc: rethrown by Finish, as the inserter's
      failure_ = std::current_exception();
    }
    filling_.clear();
    return;
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !inserting_; });
  std::swap(filling_, handed_);
  filling_.clear();
  inserting_ = true;
  changed_.notify_all();
}

void GroupTable::InserterLoop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return inserting_ || stopping_; });
    if (!inserting_) return;
    lock.unlock();
    try {
      if (!failure_) InsertBatch(handed_);
    } catch (...) {  // std::bad_alloc: rethrown by Finish on the caller's thread
      failure_ = std::current_exception();
    }
    lock.lock();
    inserting_ = false;
    changed_.notify_all();
  }
}

void GroupTable::StopInserter() {
  if (!inserter_.joinable()) return;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !inserting_; });
    stopping_ = true;
    changed_.notify_all();
  }
  inserter_.join();
  stopping_ = false;
}

void GroupTable::Finish() {
  StopInserter();
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  InsertBatch(filling_);
  filling_.clear();
}

GroupTable::~GroupTable() { StopInserter(); }

void GroupTable::InsertBatch(const std::vector<Pending>& batch) {
  const size_t n = batch.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kLag < n) table_.PrefetchSlot(batch[i + kLag].hash);
    if (i + kLag / 2 < n) table_.PrefetchEntry(batch[i + kLag / 2].hash);
    Insert(batch[i]);
  }
}

void GroupTable::Insert(const Pending& p) {
  const size_t index = table_.AddEntry(p.entry, p.hash);
  if (index == dst_sent_.size()) dst_sent_.emplace_back(0, 0);
  if (p.reversed) {
    dst_sent_[index].first += p.entry.value.packets;
    dst_sent_[index].second += p.entry.value.bytes;
  }
}

int64_t GroupTable::Find(DigestKey key, std::string_view account, std::string_view interface) {
  key.owner = table_.InternOwner(account, interface);
  return table_.Find(key);
}

ResultRow GroupTable::Row(size_t i) const {
  ResultRow out;
  RowView& v = out.view;
  v = MakeRowView(entry(i), account(i), interface(i));
  const FlowRecord& r = v.record;
  v.has_flows = has_flows_;
  v.fields = fields_;
  // After a conversation's swap the two ends are cut alike (ParseQuery checks it).
  v.srcaddr_bits = r.srcaddr.v4 ? group_by_.src_v4_bits : group_by_.src_v6_bits;
  v.dstaddr_bits = r.dstaddr.v4 ? group_by_.dst_v4_bits : group_by_.dst_v6_bits;
  out.dst_packets = dst_sent_[i].first;
  out.dst_bytes = dst_sent_[i].second;
  return out;
}

bool GroupTable::KeyLess(const GroupTable& ta, size_t i, const GroupTable& tb, size_t j) {
  const DigestKey& a = ta.entry(i).key;
  const DigestKey& b = tb.entry(j).key;
  if (&ta != &tb || a.owner != b.owner) {
    if (const int c = ta.account(i).compare(tb.account(j)); c != 0) return c < 0;
    if (const int c = ta.interface(i).compare(tb.interface(j)); c != 0) return c < 0;
  }
  if (const int c =
          CompareAddress(a.src, a.flags & DigestKey::kSrcV4, b.src, b.flags & DigestKey::kSrcV4);
      c != 0) {
    return c < 0;
  }
  if (const int c =
          CompareAddress(a.dst, a.flags & DigestKey::kDstV4, b.dst, b.flags & DigestKey::kDstV4);
      c != 0) {
    return c < 0;
  }
  return std::make_tuple(a.srcport, a.dstport, a.protocol, a.action()) <
         std::make_tuple(b.srcport, b.dstport, b.protocol, b.action());
}

}  // namespace vpcflow
