#pragma once
/// TrackingQueuer: the queuer through which this process queues a job (POST, and the marker
/// keeper's recovery), so that every job it queues is held by its JobTracker from before the
/// job can start until it ends: its marker is heartbeated while it waits, and /status shows it
/// queued. Thread-safe when the target is.

#include "service/job_tracker.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {

class TrackingQueuer final : public QueuerWrapper {
 public:
  /// `target` and `tracker` are not owned and must outlive this queuer.
  TrackingQueuer(Queuer* target, JobTracker* tracker) : QueuerWrapper(target), tracker_(tracker) {}

  /// Tracks the job as queued (JobTracker::Queued), then queues it on the target. When the
  /// target refuses it (any error but AlreadyExists, which means this process has it already)
  /// the job is forgotten again. Returns the target's status.
  [[nodiscard]] Status Queue(const Job& job) override;

 private:
  JobTracker* tracker_;
};

}  // namespace vpcflow
