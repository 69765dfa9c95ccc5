#include "testing/memory_queuer.hpp"

#include <utility>

namespace vpcflow {

void MemoryQueuer::SetHandler(JobHandler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

Status MemoryQueuer::Queue(const Job& job) {
  std::lock_guard lock(mu_);
  if (shut_down_) return FailedPreconditionError("the job queue is shut down");
  if (!fail_with_.ok()) return fail_with_;
  jobs_.push_back(job);
  pending_.push_back(job);
  return OkStatus();
}

std::vector<Job> MemoryQueuer::Shutdown(int64_t) {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  return std::exchange(pending_, {});
}

void MemoryQueuer::FailWith(Status status) {
  std::lock_guard lock(mu_);
  fail_with_ = std::move(status);
}

std::vector<Status> MemoryQueuer::RunPending() {
  std::vector<Job> jobs;
  JobHandler handler;
  {
    std::lock_guard lock(mu_);
    jobs = std::exchange(pending_, {});
    handler = handler_;
  }
  std::vector<Status> statuses;
  statuses.reserve(jobs.size());
  for (const Job& job : jobs) {
    statuses.push_back(handler ? handler(job, std::stop_token())
                               : FailedPreconditionError("no handler"));
  }
  return statuses;
}

std::vector<Job> MemoryQueuer::jobs() const {
  std::lock_guard lock(mu_);
  return jobs_;
}

std::vector<Job> MemoryQueuer::pending() const {
  std::lock_guard lock(mu_);
  return pending_;
}

}  // namespace vpcflow
