#include "service/job_tracker.hpp"

#include <chrono>

namespace vpcflow {
namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

JobTracker::JobTracker(JobStateStore* store) { SetStore(store); }

void JobTracker::SetStore(JobStateStore* store) {
  own_store_ = store == nullptr ? NewMemoryJobStateStore() : nullptr;
  store_ = store == nullptr ? own_store_.get() : store;
}

void JobTracker::Queued(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    Held& held = jobs_[std::string(id)];
    if (held.job.phase == JobPhase::kRunning) return;  // queued again while it runs
    held = Held{};
  }
  (void)store_->Update(id, [](JobState& s) {
    s = JobState{};
    return OkStatus();
  });
}

bool JobTracker::StartRunning(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    Held& held = jobs_[std::string(id)];
    if (held.job.phase == JobPhase::kRunning) return false;
    held = Held{.job = {.phase = JobPhase::kRunning, .progress = {}}};
  }
  (void)store_->Update(id, [](JobState& s) {
    s.phase = JobPhase::kRunning;
    s.progress = {};
    s.failure.clear();
    s.holders["digest"] = ThisWorkerName();
    return OkStatus();
  });
  return true;
}

void JobTracker::Progress(std::string_view id, const DigestProgress& progress) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    it->second.job.progress = progress;
    const int64_t now = SteadyMillis();
    const bool complete = progress.objects_done == progress.objects_total;
    if (!complete && it->second.shared_progress_ms != 0 &&
        now - it->second.shared_progress_ms < kSharedProgressIntervalMs) {
      return;
    }
    it->second.shared_progress_ms = now;
  }
  (void)store_->Update(id, [&progress](JobState& s) {
    s.phase = JobPhase::kRunning;
    s.progress = progress;
    return OkStatus();
  });
}

void JobTracker::Forget(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    jobs_.erase(it);
  }
  // A job queued here and taken over by a worker elsewhere is that worker's now: its state
  // stays (this process forgets it when the marker names the other holder).
  Result<JobState> shared = store_->Get(id);
  if (shared.ok() && shared->phase == JobPhase::kRunning) {
    // A job split into shard tasks is its merge's to end.
    if (shared->shards_total > 0) return;
    auto holder = shared->holders.find("digest");
    if (holder != shared->holders.end() && holder->second != ThisWorkerName()) return;
  }
  (void)store_->Remove(id);
}

void JobTracker::HandOff(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    jobs_.erase(std::string(id));
  }
  (void)store_->Update(id, [](JobState& s) {
    s.holders.erase("digest");
    return OkStatus();
  });
}

std::optional<TrackedJob> JobTracker::Get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.job;
}

std::map<std::string, JobPhase> JobTracker::Phases() const {
  std::lock_guard lock(mu_);
  std::map<std::string, JobPhase> out;
  for (const auto& [id, held] : jobs_) out.emplace(id, held.job.phase);
  return out;
}

size_t JobTracker::CountLocked(JobPhase phase) const {
  size_t n = 0;
  for (const auto& [id, held] : jobs_) n += held.job.phase == phase;
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
