#pragma once
/// The HTTP API of DESIGN.md ("HTTP API"): thin handlers over the modules, and the pure
/// functions they are made of (tested on their own).
///
/// Thread safety: handlers are called from many threads at once; everything in ApiContext must
/// be thread-safe (the module interfaces promise it).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/message.hpp"
#include "api/router.hpp"
#include "modules/queuer/worker_pool.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/job_state.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/queuer.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/storage.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

/// Which routes a process serves.
enum class ApiRoutes {
  kAll,         ///< the whole API
  kProbesOnly,  ///< /healthz, /readyz and /metrics (DIGEST_ROLE=worker)
};

/// What the handlers use. Nothing is owned; all pointers must outlive the router.
struct ApiContext {
  Storage* storage = nullptr;
  Marker* marker = nullptr;
  Queuer* queuer = nullptr;
  Logger* logger = nullptr;
  Stats* stats = nullptr;
  /// The shared state of live jobs (JobStateStore), whichever process holds them: /status reads
  /// it. The service's JobTracker writes it (the queuer the API is given tracks what it queues).
  JobStateStore* job_states = nullptr;
  /// Runs the jobs of `POST /{topic}/{event}` (the worker entry of the bus): the process's one
  /// bounded pool, shared with the in-process queue.
  WorkerPool* pool = nullptr;
  /// Readiness for /readyz, and for POST /: OK, or the first problem (a store not ready, the
  /// job queue full, shutting down).
  std::function<Status()> ready;
  int64_t max_window_seconds = kDefaultMaxWindowSeconds;
  /// Judges whether a window has started and whether a digest is provisional; null =
  /// SystemClock().
  Clock* clock = nullptr;
  int64_t settle_seconds = kDefaultSettleSeconds;  ///< DIGEST_SETTLE (provisional.hpp)
  ApiRoutes routes = ApiRoutes::kAll;
};

/// Registers every route of the API on `router` (only the probes and /metrics when
/// ctx->routes says so); handlers use `ctx` (not owned). /healthz and
/// /readyz are open (Access::kOpen), the worker route takes a worker token (Access::kWorker),
/// the rest an API token. Routes that touch a store run on blocking threads; the worker route
/// is asynchronous: the job goes to `ctx->pool` and the answer comes when it ends (204 done,
/// 400 bad job, 5xx failed; 503 with Retry-After when the pool is full or shutting down).
void AddApiRoutes(Router& router, ApiContext* ctx);

/// The window of `?start=...&stop=...` (MakeWindow's rules). Returns InvalidArgument with a
/// message for the client when a parameter is missing or bad.
Result<Window> WindowFromQuery(const ApiRequest& request, int64_t max_window_seconds);

/// Now by ctx.clock, in Unix seconds.
int64_t NowUnixSeconds(const ApiContext& ctx);

/// `window` when a digest of it may be made now (CheckWindowStarted by ctx.clock): POST and the
/// worker route refuse windows that start in the future with 400. A window that has not
/// settled is accepted: its digest is provisional (provisional.hpp).
Result<Window> StartedWindow(const ApiContext& ctx, const Window& window);

/// The 400 answer for `status` (InvalidArgument, its message for the client), logged as
/// invalid-input.
ApiResponse InvalidInput(const ApiContext& ctx, const ApiRequest& request, const Status& status);

/// The answer for a module failing: logged as dependency-failure, `http_status` or, when 0,
/// HttpStatusFromCode (503 for a client's code or PermissionDenied: the client may retry).
ApiResponse DependencyFailure(const ApiContext& ctx, std::string_view dependency,
                              const Status& status, int http_status = 0);

/// The facts /status reports, gathered from the modules.
struct DigestStatusFacts {
  std::string id;
  Window window;
  bool stored = false;             ///< Storage::Exists
  std::string manifest;            ///< the manifest JSON when stored ("" if unreadable)
  MarkInfo mark;                   ///< Marker::State
  std::optional<JobState> shared;  ///< the shared job state (JobStateStore::Get)
};

/// The state name of /status: "done" when stored; for a live marker "running" when the marker or
/// the shared state says so, else "queued"; "failed" for a failure record; "unknown" otherwise
/// (nothing, or a stale marker: its holder died or went silent).
std::string_view DigestStateName(const DigestStatusFacts& facts);

/// The /status JSON: {"id","start","stop","state","progress","shards","holders","provisional",
/// "counts","error"} where provisional is the manifest's flag when done (else null), and, while
/// running, progress is the shared one (else null), shards {"done","total"}
/// is the shared count of a job split into shards (else null), holders {task: worker} says which
/// worker holds which task (else null); counts is the manifest's summary when done (else null), and
/// error is the failure record's text when failed (else null).
std::string DigestStatusJson(const DigestStatusFacts& facts);

}  // namespace vpcflow
