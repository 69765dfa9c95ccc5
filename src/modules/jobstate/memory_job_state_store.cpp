// The in-memory JobStateStore (include/vpcflow/job_state.hpp): one mutex makes Update atomic.
#include <map>
#include <mutex>

#include "vpcflow/clock.hpp"
#include "vpcflow/job_state.hpp"

namespace vpcflow {
namespace {

class MemoryJobStateStore final : public JobStateStore {
 public:
  Result<JobState> Get(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return NotFoundError("no state for job " + std::string(id));
    return it->second;
  }

  Result<JobState> Update(std::string_view id,
                          const std::function<Status(JobState&)>& change) override {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    JobState next = it == jobs_.end() ? JobState{} : it->second;
    VPCFLOW_RETURN_IF_ERROR(change(next));
    next.updated_unix_ms = SystemClock()->NowUnixMillis();
    jobs_.insert_or_assign(std::string(id), next);
    return next;
  }

  Status Remove(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end()) jobs_.erase(it);
    return OkStatus();
  }

  std::string Describe() const override { return "memory"; }

 private:
  std::mutex mu_;
  std::map<std::string, JobState, std::less<>> jobs_;
};

}  // namespace

JobStateStorePtr NewMemoryJobStateStore() { return std::make_unique<MemoryJobStateStore>(); }

}  // namespace vpcflow
