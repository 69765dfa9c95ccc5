#pragma once
/// The JobStateStore of the NATS queue: one key per job (the digest id) in a JetStream
/// key-value bucket, each value JobStateToJson. Update is a compare-and-set loop on the key's
/// revision (kvStore_Create when the key has no value, kvStore_Update otherwise), so workers on
/// any machine update one job without losing each other's changes. A value that does not parse
/// (a newer or broken writer) reads as NotFound and is replaced by the next Update.

#include "nats/kv_bucket.hpp"
#include "vpcflow/job_state.hpp"

namespace vpcflow {

/// `bucket` is not owned and must outlive the store. Update gives up with Unavailable after
/// `max_attempts` lost compare-and-sets in a row (a job updated by that many writers at once).
JobStateStorePtr NewKvJobStateStore(KvBucket* bucket, int max_attempts = 100);

}  // namespace vpcflow
