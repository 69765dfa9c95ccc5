#pragma once
/// MarkerKeeper: the service's side of "who holds a job", in one place (DESIGN.md, "Markers and
/// crash recovery"). The markers say who holds each accepted job and when it last showed a sign
/// of life (marker.hpp); the keeper gives those signs for this process and takes over the jobs
/// of holders that died. Every `interval_ms`, on two threads (queuing may block; heartbeats
/// must not wait for it):
///  1. heartbeats: Marker::Refresh of every job this process holds (queued or running in the
///     JobTracker), kHeartbeatConcurrency at once (so a round over a full queue stays well
///     within kStaleHeartbeats intervals on a slow store). A queued job whose marker another holder
///     took (FailedPrecondition: a worker of a bus claimed it) or that vanished (NotFound: done
///     elsewhere) is forgotten;
///  2. recovery: Marker::List, and for each stale marker that names its window (a holder on
///     this host that is gone, such as the predecessor of a restarted service, is stale at once;
///     one elsewhere after kStaleHeartbeats silent intervals): the digest already stored ->
///     Unmark; else take it over (Mark replaces a stale marker atomically, so of several
///     instances exactly one wins) and Queue it. A job that cannot be queued (queue full) is
///     left to go stale again and is retried. Markers of the older service (no window) and
///     markers whose window does not give their id are left alone.
/// The first round runs as soon as Start() is called, so a restarted service re-queues what
/// its predecessor held without waiting. A marker that cannot List() gets heartbeats only.
///
/// Thread safety: Start/StopRecovering/Stop from one thread (the service's lifecycle);
/// StopRecovering from any; RunOnce from tests only, when the threads are not started.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "service/job_tracker.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/queuer.hpp"
#include "vpcflow/service.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

/// How many markers a heartbeat round refreshes at once.
inline constexpr size_t kHeartbeatConcurrency = 8;

/// The heartbeat interval the service uses: DIGEST_HEARTBEAT_INTERVAL, but at most a third of
/// the marker TTL (so a marker refreshed on time never looks stale), and at least 10 ms.
int64_t HeartbeatIntervalFor(int64_t heartbeat_ms, int64_t ttl_ms);

/// The options of the service's markers: TTL DIGEST_PROGRESS_TIMEOUT, heartbeat
/// HeartbeatIntervalFor(DIGEST_HEARTBEAT_INTERVAL, TTL), judged by `clock`.
MarkerOptions MarkerOptionsFor(const Config& config, ClockPtr clock);

/// What a keeper uses. Nothing is owned; everything must outlive the keeper.
struct MarkerKeeperDeps {
  Marker* marker = nullptr;
  Storage* storage = nullptr;
  /// Where recovered jobs are queued: the service's TrackingQueuer over `tracker`, so this
  /// process holds (and heartbeats) what it queued.
  Queuer* queuer = nullptr;
  JobTracker* tracker = nullptr;
  Logger* logger = nullptr;
  Stats* stats = nullptr;
  int64_t interval_ms = 5000;  ///< HeartbeatIntervalFor(...)
};

class MarkerKeeper {
 public:
  explicit MarkerKeeper(MarkerKeeperDeps deps) : deps_(deps) {}
  ~MarkerKeeper() { Stop(); }
  MarkerKeeper(const MarkerKeeper&) = delete;
  MarkerKeeper& operator=(const MarkerKeeper&) = delete;

  /// Starts the threads; their first rounds run at once.
  void Start();
  /// From now on rounds only give heartbeats (shutdown: take no new work, keep the running
  /// jobs' markers alive until they end).
  void StopRecovering();
  /// Stops and joins the threads. Idempotent.
  void Stop();

  /// One round (heartbeats, then recovery unless stopped); returns how many jobs it took over.
  int RunOnce();

 private:
  void Heartbeats();
  void Heartbeat(const std::string& id, JobPhase phase);
  int Recover();
  bool Recovering();
  // Runs `round` now and then every interval until `stop`.
  template <typename Round>
  void Every(const std::stop_token& stop, Round round);

  const MarkerKeeperDeps deps_;
  std::mutex mu_;
  bool recovering_ = true;                // guarded by mu_
  bool list_unsupported_logged_ = false;  // the recovery thread's
  std::jthread heartbeats_;
  std::jthread recovery_;
};

}  // namespace vpcflow
