#include "service/marker_keeper.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <utility>
#include <vector>

namespace vpcflow {

int64_t HeartbeatIntervalFor(int64_t heartbeat_ms, int64_t ttl_ms) {
  return std::clamp<int64_t>(std::min(heartbeat_ms, ttl_ms / 3), 10, kMaxHeartbeatMs);
}

MarkerOptions MarkerOptionsFor(const Config& config, ClockPtr clock) {
  return {.ttl_ms = config.progress_timeout_ms,
          .heartbeat_ms = HeartbeatIntervalFor(config.heartbeat_ms, config.progress_timeout_ms),
          .clock = std::move(clock)};
}

void MarkerKeeper::Start() {
  if (heartbeats_.joinable()) return;
  // Two threads: queuing a recovered job may block (an HTTP bus retries for seconds), and
  // the heartbeats must not wait for it.
  heartbeats_ =
      std::jthread([this](const std::stop_token& stop) { Every(stop, [this] { Heartbeats(); }); });
  recovery_ = std::jthread([this](const std::stop_token& stop) {
    Every(stop, [this] {
      if (Recovering()) Recover();
    });
  });
}

template <typename Round>
void MarkerKeeper::Every(const std::stop_token& stop, Round round) {
  std::mutex mu;
  std::condition_variable_any wake;
  std::unique_lock lock(mu);
  do {
    round();
  } while (!wake.wait_for(lock, stop, std::chrono::milliseconds(deps_.interval_ms),
                          [&stop] { return stop.stop_requested(); }));
}

bool MarkerKeeper::Recovering() {
  std::lock_guard lock(mu_);
  return recovering_;
}

void MarkerKeeper::StopRecovering() {
  std::lock_guard lock(mu_);
  recovering_ = false;
}

void MarkerKeeper::Stop() {
  for (std::jthread* thread : {&heartbeats_, &recovery_}) {
    if (!thread->joinable()) continue;
    thread->request_stop();
    thread->join();
  }
}

int MarkerKeeper::RunOnce() {
  Heartbeats();
  return Recovering() ? Recover() : 0;
}

void MarkerKeeper::Heartbeats() {
  const std::map<std::string, JobPhase> phases = deps_.tracker->Phases();
  const std::vector<std::pair<std::string, JobPhase>> jobs(phases.begin(), phases.end());
  // Several at once: each refresh is a round trip or two to the store, and one after the other
  // a round over a full queue on a slow store (S3 under load) outlasted kStaleHeartbeats
  // intervals, so the markers of live jobs went stale: GET said 404 for a queued job and another
  // instance could take it over (found by `make soak`).
  std::atomic<size_t> next{0};
  auto beat = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) Heartbeat(jobs[i].first, jobs[i].second);
  };
  std::vector<std::jthread> helpers;
  for (size_t t = 1; t < std::min(kHeartbeatConcurrency, jobs.size()); ++t) {
    helpers.emplace_back(beat);
  }
  beat();
}

void MarkerKeeper::Heartbeat(const std::string& id, JobPhase phase) {
  const MarkerKeeperDeps& d = deps_;
  Status st = d.marker->Refresh(id);
  if (st.ok()) return;
  const bool lost = IsNotFound(st) || st.code() == StatusCode::kFailedPrecondition;
  if (lost) {
    // `phase` is from the start of the round. A job that ended since (its runner removed the
    // marker, and a new POST may have marked the window again) or started (its runner claimed
    // the marker) lost its marker to its own runner, not to a takeover: the next round judges
    // what is held then.
    const std::optional<TrackedJob> now = d.tracker->Get(id);
    if (!now || now->phase != phase) return;
  }
  if (lost && phase == JobPhase::kQueued) {
    // Handed to a bus and claimed by a worker elsewhere, or finished there.
    d.tracker->Forget(id);
  } else if (IsNotFound(st)) {
    // A running job that just ended (its runner removes the marker, then forgets the job).
  } else if (lost) {
    // Silent for too long (the store was unreachable), the job was taken over: the digest is
    // deterministic and stored atomically, so this run only finishes in vain.
    d.logger->Log(LogLevel::kWarn, "job-taken-over", {{"id", id}, {"reason", st.message()}});
  } else {
    d.logger->Log(
        LogLevel::kError, "dependency-failure",
        {{"dependency", "marker"}, {"reason", "heartbeat: " + st.ToString()}, {"id", id}});
  }
}

int MarkerKeeper::Recover() {
  const MarkerKeeperDeps& d = deps_;
  Result<std::vector<MarkedDigest>> marks = d.marker->List();
  if (!marks.ok()) {
    if (IsUnimplemented(marks.status())) {
      if (!list_unsupported_logged_) {
        list_unsupported_logged_ = true;
        d.logger->Log(LogLevel::kWarn, "startup-warning",
                      {{"reason", "the marker " + d.marker->Describe() +
                                      " cannot list its markers: jobs of a crashed instance are "
                                      "not re-queued (POST them again)"}});
      }
      return 0;
    }
    d.logger->Log(LogLevel::kError, "dependency-failure",
                  {{"dependency", "marker"}, {"reason", "recovery: " + marks.status().ToString()}});
    return 0;
  }
  int recovered = 0;
  for (const MarkedDigest& m : *marks) {
    if (m.info.state != MarkState::kStale || !m.info.window || DigestId(*m.info.window) != m.id ||
        d.tracker->Get(m.id).has_value()) {
      continue;
    }
    const Job job{.id = m.id, .window = *m.info.window};
    Result<bool> stored = d.storage->Exists(job.id);
    if (!stored.ok()) {
      d.logger->Log(LogLevel::kError, "dependency-failure",
                    {{"dependency", "storage"}, {"reason", stored.status().ToString()}});
      continue;
    }
    if (*stored) {  // its holder stored it, then died before removing the marker
      (void)d.marker->Unmark(job.id);
      continue;
    }
    if (!d.marker->Mark(job.id, job.window).ok()) continue;  // another instance won, or failed
    if (Status st = d.queuer->Queue(job); !st.ok()) {
      // Left to this process's silent marker: it goes stale again and is retried.
      d.logger->Log(LogLevel::kWarn, "dependency-failure",
                    {{"dependency", "queuer"}, {"reason", st.ToString()}, {"id", job.id}});
      continue;
    }
    ++recovered;
    const MarkOwner previous = m.info.owner.value_or(MarkOwner{});
    d.stats->Count("jobs_recovered", 1);
    d.logger->Log(LogLevel::kInfo, "job-recovered",
                  {{"id", job.id},
                   {"start", FormatRfc3339(job.window.start)},
                   {"stop", FormatRfc3339(job.window.stop)},
                   {"phase", MarkPhaseName(m.info.phase)},
                   {"previous_host", previous.host},
                   {"previous_pid", previous.pid}});
  }
  return recovered;
}

}  // namespace vpcflow
