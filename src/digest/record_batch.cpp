#include "digest/record_batch.hpp"

namespace vpcflow {

void RecordBatch::Add(const FlowRecord& record) {
  if (last_owner_ == UINT32_MAX ||
      !owners_.Is(last_owner_, record.account_id, record.interface_id)) {
    last_owner_ = owners_.Intern(record.account_id, record.interface_id,
                                 HashOwner(record.account_id, record.interface_id));
  }
  DigestEntry& e = entries_.emplace_back();
  e.key = MakeDigestKey(record, last_owner_);
  e.value = {record.packets, record.bytes, 1, record.start, record.end};
  hashes_.push_back(HashKeyBody(e.key));
}

void RecordBatch::Clear() {
  owners_.Clear();
  last_owner_ = UINT32_MAX;
  entries_.clear();
  hashes_.clear();
}

}  // namespace vpcflow
