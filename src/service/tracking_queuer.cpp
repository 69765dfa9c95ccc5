#include "service/tracking_queuer.hpp"

namespace vpcflow {

Status TrackingQueuer::Queue(const Job& job) {
  // Tracked first: an in-process worker may start the job before Queue returns, and its
  // StartRunning must not be overwritten by a late Queued.
  tracker_->Queued(job.id);
  Status st = QueuerWrapper::Queue(job);
  if (!st.ok() && !IsAlreadyExists(st)) tracker_->Forget(job.id);
  return st;
}

}  // namespace vpcflow
