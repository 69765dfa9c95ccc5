#include "nats/kv_job_state_store.hpp"

#include <chrono>

namespace vpcflow {
namespace {

int64_t NowUnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class KvJobStateStore final : public JobStateStore {
 public:
  KvJobStateStore(KvBucket* bucket, int max_attempts)
      : bucket_(bucket), max_attempts_(max_attempts < 1 ? 1 : max_attempts) {}

  Result<JobState> Get(std::string_view id) override {
    VPCFLOW_ASSIGN_OR_RETURN(KvEntry entry, bucket_->Get(id));
    Result<JobState> state = JobStateFromJson(entry.value);
    if (!state.ok()) return NotFoundError("unreadable state for job " + std::string(id));
    return state;
  }

  Result<JobState> Update(std::string_view id,
                          const std::function<Status(JobState&)>& change) override {
    for (int attempt = 0; attempt < max_attempts_; ++attempt) {
      Result<KvEntry> entry = bucket_->Get(id);
      if (!entry.ok() && !IsNotFound(entry.status())) return entry.status();
      JobState next;
      if (entry.ok()) {
        Result<JobState> parsed = JobStateFromJson(entry->value);
        if (parsed.ok()) next = std::move(parsed).value();
      }
      VPCFLOW_RETURN_IF_ERROR(change(next));
      next.updated_unix_ms = NowUnixMillis();
      const std::string value = JobStateToJson(next);
      Result<uint64_t> written =
          entry.ok() ? bucket_->Update(id, value, entry->revision) : bucket_->Create(id, value);
      if (written.ok()) return next;
      // Another writer got there first: read again and re-apply the change.
      if (written.status().code() != StatusCode::kFailedPrecondition &&
          written.status().code() != StatusCode::kAlreadyExists) {
        return written.status();
      }
    }
    return UnavailableError("job " + std::string(id) + ": " + std::to_string(max_attempts_) +
                            " concurrent updates in a row lost their compare-and-set");
  }

  Status Remove(std::string_view id) override { return bucket_->Delete(id); }

  std::string Describe() const override { return bucket_->Describe(); }

 private:
  KvBucket* bucket_;
  int max_attempts_;
};

}  // namespace

JobStateStorePtr NewKvJobStateStore(KvBucket* bucket, int max_attempts) {
  return std::make_unique<KvJobStateStore>(bucket, max_attempts);
}

}  // namespace vpcflow
