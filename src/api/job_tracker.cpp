#include "api/job_tracker.hpp"

namespace vpcflow {

void JobTracker::Queued(std::string_view id) {
  std::lock_guard lock(mu_);
  TrackedJob& job = jobs_[std::string(id)];
  if (job.phase != JobPhase::kRunning) job = TrackedJob{};  // queued again while it runs
}

bool JobTracker::StartRunning(std::string_view id) {
  std::lock_guard lock(mu_);
  TrackedJob& job = jobs_[std::string(id)];
  if (job.phase == JobPhase::kRunning) return false;
  job = TrackedJob{.phase = JobPhase::kRunning, .progress = {}};
  return true;
}

void JobTracker::Progress(std::string_view id, const DigestProgress& progress) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) it->second.progress = progress;
}

void JobTracker::Forget(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) jobs_.erase(it);
}

std::optional<TrackedJob> JobTracker::Get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, JobPhase> JobTracker::Phases() const {
  std::lock_guard lock(mu_);
  std::map<std::string, JobPhase> out;
  for (const auto& [id, job] : jobs_) out.emplace(id, job.phase);
  return out;
}

size_t JobTracker::CountLocked(JobPhase phase) const {
  size_t n = 0;
  for (const auto& [id, job] : jobs_) n += job.phase == phase;
  return n;
}

size_t JobTracker::queued() const {
  std::lock_guard lock(mu_);
  return CountLocked(JobPhase::kQueued);
}

size_t JobTracker::running() const {
  std::lock_guard lock(mu_);
  return CountLocked(JobPhase::kRunning);
}

}  // namespace vpcflow
