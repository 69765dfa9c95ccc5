#pragma once
/// MemoryQueuer: records queued jobs without running them, for tests that want to see the state
/// between "queued" and "done"; RunPending() runs them with the handler on the calling thread.
/// Can fail on demand. Thread-safe (one mutex; the handler runs outside it).

#include <mutex>
#include <optional>
#include <vector>

#include "vpcflow/queuer.hpp"

namespace vpcflow {

class MemoryQueuer final : public Queuer {
 public:
  void SetHandler(JobHandler handler) override;
  /// Records the job (OK), or returns the status set by FailWith.
  Status Queue(const Job& job) override;
  /// Returns the pending jobs; later Queue calls are FailedPrecondition.
  std::vector<Job> Shutdown(int64_t grace_ms) override;
  std::string Describe() const override { return "memory"; }

  /// Every later Queue returns `status` (OK = accept again).
  void FailWith(Status status);
  /// Runs the pending jobs, oldest first, with the handler and a never-stopped token; returns
  /// their statuses. Jobs queued meanwhile wait for the next call.
  std::vector<Status> RunPending();

  /// Every job accepted so far (run or not), and the ones not yet run.
  std::vector<Job> jobs() const;
  std::vector<Job> pending() const;

 private:
  mutable std::mutex mu_;
  JobHandler handler_;
  Status fail_with_;
  bool shut_down_ = false;
  std::vector<Job> jobs_;
  std::vector<Job> pending_;
};

}  // namespace vpcflow
