#include "api/handlers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/openapi.hpp"
#include "api/provisional.hpp"
#include "api/query_handlers.hpp"
#include "api/web_ui.hpp"

namespace vpcflow {
namespace {

std::string WindowQuery(const Window& window) {
  return "start=" + FormatRfc3339(window.start) + "&stop=" + FormatRfc3339(window.stop);
}

}  // namespace

ApiResponse DependencyFailure(const ApiContext& ctx, std::string_view dependency,
                              const Status& status, int http_status) {
  ctx.logger->Log(LogLevel::kError, "dependency-failure",
                  {{"dependency", dependency}, {"reason", status.ToString()}});
  if (http_status == 0) {
    // A store that refuses us (permissions) may be fixed without a change on the client's
    // side: like any other dependency failure it is 503, for the client to retry.
    http_status = HttpStatusFromCode(status.code());
    if (http_status < 500 || status.code() == StatusCode::kPermissionDenied) http_status = 503;
  }
  return JsonError(http_status, std::string(dependency) + " failed: " + status.message());
}

ApiResponse InvalidInput(const ApiContext& ctx, const ApiRequest& request, const Status& status) {
  ctx.logger->Log(LogLevel::kInfo, "invalid-input",
                  {{"path", request.path}, {"reason", status.message()}});
  return JsonError(400, status.message());
}

namespace {

ApiResponse Conflict(const ApiContext& ctx, const std::string& id, std::string_view reason) {
  ctx.logger->Log(LogLevel::kInfo, "conflict", {{"id", id}, {"reason", reason}});
  return JsonError(409, "digest " + id + " " + std::string(reason));
}

void CountOutcome(const ApiContext& ctx, std::string_view name, std::string_view outcome) {
  ctx.stats->Count(name, 1, {{"outcome", outcome}});
}

ApiResponse PostDigest(ApiContext& ctx, const ApiRequest& request) {
  constexpr std::string_view kStat = "digest_posts";
  Result<Window> window = WindowFromQuery(request, ctx.max_window_seconds);
  if (window.ok()) window = StartedWindow(ctx, *window);
  if (!window.ok()) {
    CountOutcome(ctx, kStat, "invalid");
    return InvalidInput(ctx, request, window.status());
  }
  if (Status ready = ctx.ready ? ctx.ready() : OkStatus(); !ready.ok()) {
    // As /readyz says: nothing is marked for a job that could not be queued or stored.
    CountOutcome(ctx, kStat, "not_ready");
    ctx.logger->Log(LogLevel::kWarn, "not-ready", {{"reason", ready.message()}});
    return BusyResponse(ready.message());
  }
  const Job job{.id = DigestId(*window), .window = *window};
  // A stored digest is final, or provisional (made before its window settled): a POST after
  // the window settled replaces a provisional one; anything else stored is a conflict.
  auto standing = [&]() -> Result<DigestStanding> {
    return StandingOf(*ctx.storage, job.id, job.window, NowUnixSeconds(ctx), ctx.settle_seconds);
  };
  auto stored_conflict = [&](DigestStanding s) {
    CountOutcome(ctx, kStat, "exists");
    if (s == DigestStanding::kProvisional) {
      return Conflict(ctx, job.id,
                      "exists (provisional: a POST from " +
                          FormatRfc3339(WindowSettledAt(job.window, ctx.settle_seconds)) +
                          " replaces it)");
    }
    return Conflict(ctx, job.id, "exists");
  };
  Result<DigestStanding> stored = standing();
  if (!stored.ok()) {
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "storage", stored.status());
  }
  if (*stored == DigestStanding::kFinal || *stored == DigestStanding::kProvisional) {
    return stored_conflict(*stored);
  }
  // A stale marker is an accepted job whose holder died or went silent: this POST takes it
  // over. If it then cannot be queued here, its marker must stay, for the recovery of this or
  // another instance to queue it later (MarkerKeeper): unmarking it lost a job a client had
  // been told (202) would complete (found by `make soak`: kill -9, then a full queue).
  Result<MarkInfo> before = ctx.marker->State(job.id);
  if (!before.ok()) {
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "marker", before.status());
  }
  if (before->state == MarkState::kInProgress) {
    CountOutcome(ctx, kStat, "in_progress");
    return Conflict(ctx, job.id, "is in progress");
  }
  const bool orphan = before->state == MarkState::kStale;
  // Releases the marker of a job that was not accepted; an orphan's stays.
  auto release = [&ctx, &job, orphan] {
    if (orphan) {
      ctx.logger->Log(LogLevel::kWarn, "job-left-for-recovery", {{"id", job.id}});
      return;
    }
    if (Status unmark = ctx.marker->Unmark(job.id); !unmark.ok()) {
      ctx.logger->Log(LogLevel::kError, "dependency-failure",
                      {{"dependency", "marker"}, {"reason", unmark.ToString()}, {"id", job.id}});
    }
  };
  // Marking first makes the POST race safe: exactly one caller creates the marker.
  if (Status st = ctx.marker->Mark(job.id, job.window); !st.ok()) {
    if (IsAlreadyExists(st)) {
      CountOutcome(ctx, kStat, "in_progress");
      return Conflict(ctx, job.id, "is in progress");
    }
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "marker", st);
  }
  // A worker may have finished between the check and Mark: do not run the digest twice.
  Result<DigestStanding> after = standing();
  if (!after.ok() || *after == DigestStanding::kFinal || *after == DigestStanding::kProvisional) {
    if (after.ok() || !orphan) (void)ctx.marker->Unmark(job.id);
    if (after.ok()) return stored_conflict(*after);
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "storage", after.status());
  }
  // AlreadyExists: this process has the job waiting already (the in-process queue runs a job
  // asked for while one of its id runs once that one ended), or runs it for the bus: it goes on.
  if (Status st = ctx.queuer->Queue(job); !st.ok() && !IsAlreadyExists(st)) {
    release();
    if (st.code() == StatusCode::kResourceExhausted) {
      CountOutcome(ctx, kStat, "queue_full");
      ctx.logger->Log(LogLevel::kWarn, "queue-full", {{"id", job.id}, {"reason", st.message()}});
      return BusyResponse(st.message());
    }
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "queuer", st, 503);
  }
  CountOutcome(ctx, kStat, "queued");
  ctx.logger->Log(LogLevel::kInfo, "job-queued",
                  {{"id", job.id},
                   {"start", FormatRfc3339(job.window.start)},
                   {"stop", FormatRfc3339(job.window.stop)}});
  ApiResponse response =
      JsonResponse(202, "{\"id\":" + JsonQuote(job.id) + ",\"state\":\"queued\"}");
  response.headers.emplace_back("Location", "/?" + WindowQuery(job.window));
  return response;
}

ApiResponse GetDigest(ApiContext& ctx, const ApiRequest& request) {
  constexpr std::string_view kStat = kDigestGetsStat;
  // A browser opening the service: the web view.
  if (request.query.empty() && AcceptsHtml(request.accept)) return RedirectToWebUi();
  Result<Window> window = WindowFromQuery(request, ctx.max_window_seconds);
  Result<QuerySpec> spec = QuerySpecFromRequest(request);
  if (!window.ok() || !spec.ok()) {
    CountOutcome(ctx, kStat, "invalid");
    return InvalidInput(ctx, request, window.ok() ? spec.status() : window.status());
  }
  const std::string id = DigestId(*window);
  const bool query = !spec->plain() || spec->format != QueryFormat::kFlowLog;
  // HEAD of a query answers from whether the digest is stored: the query does not run.
  const bool head_of_query = query && request.method == "HEAD";
  std::optional<StoredDigest> stored;
  Result<bool> found = false;
  if (head_of_query) {
    found = ctx.storage->Exists(id);
  } else if (Result<StoredDigest> got = ctx.storage->Get(id); got.ok()) {
    stored = std::move(got).value();
    found = true;
  } else if (!IsNotFound(got.status())) {
    found = got.status();
  }
  if (!found.ok()) {
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "storage", found.status());
  }
  if (*found) {
    // One more read of the store: a client must know the digest may still change.
    Result<std::string> manifest = ctx.storage->GetManifest(id);
    const bool provisional = manifest.ok() && ManifestIsProvisional(*manifest);
    ApiResponse response;
    if (head_of_query) {
      response = QueryDigestHead(ctx, id, *spec);
    } else if (query) {
      // Counts its outcome when the query ends.
      response = QueryDigestResponse(ctx, id, std::move(*stored), std::move(spec).value());
    } else {
      CountOutcome(ctx, kStat, "ok");
      response.content_type = "application/octet-stream";  // the stored gzip, as it is
      response.headers.emplace_back("X-Digest-Id", id);
      response.stream = std::move(stored->reader);
      response.stream_size = static_cast<int64_t>(stored->size);
    }
    if (provisional) response.headers.emplace_back("X-Digest-Provisional", "true");
    return response;
  }
  Result<MarkInfo> mark = ctx.marker->State(id);
  if (!mark.ok()) {
    CountOutcome(ctx, kStat, "error");
    return DependencyFailure(ctx, "marker", mark.status());
  }
  if (mark->state == MarkState::kInProgress) {
    CountOutcome(ctx, kStat, "in_progress");
    ApiResponse response;
    response.status = 204;
    response.content_type.clear();
    return response;
  }
  CountOutcome(ctx, kStat, "not_found");
  ctx.logger->Log(LogLevel::kInfo, "not-found", {{"id", id}});
  std::string message = "digest " + id + " not found";
  if (mark->state == MarkState::kFailed) message += " (the last attempt failed; POST to retry)";
  return JsonError(404, message);
}

// The worker route's answer for a job's result: the bus retries on 5xx, so Cancelled
// (shutdown) and dependency failures are 5xx; a job that can never succeed is 400.
ApiResponse JobResultResponse(const Status& st) {
  if (st.ok()) {
    ApiResponse response;
    response.status = 204;
    response.content_type.clear();
    return response;
  }
  int http_status = HttpStatusFromCode(st.code());
  if (http_status < 500) http_status = IsInvalidArgument(st) ? 400 : 500;
  return JsonError(http_status, st.ToString());
}

void RunJob(ApiContext& ctx, const ApiRequest& request, const ApiResponder& respond) {
  Result<Job> job = JobFromJson(request.body, ctx.max_window_seconds);
  if (job.ok()) {
    if (Result<Window> started = StartedWindow(ctx, job->window); !started.ok()) {
      job = started.status();
    }
  }
  if (!job.ok()) return respond(InvalidInput(ctx, request, job.status()));
  Status st = ctx.pool->Submit(
      *job, [respond](const Status& result) { respond(JobResultResponse(result)); });
  if (st.ok()) return;
  if (IsAlreadyExists(st)) {
    // A redelivery (the first delivery timed out while the job waits or runs): acknowledged
    // at once, so the bus stops delivering it; the first delivery gets the result.
    return respond(JsonResponse(
        202, "{\"id\":" + JsonQuote(job->id) + ",\"message\":\"already queued or running\"}"));
  }
  // Full, or shutting down: either way the bus should deliver it again later.
  ctx.logger->Log(LogLevel::kWarn,
                  st.code() == StatusCode::kResourceExhausted ? "queue-full" : "not-ready",
                  {{"id", job->id}, {"reason", st.message()}});
  respond(BusyResponse(st.message()));
}

ApiResponse GetStatus(ApiContext& ctx, const ApiRequest& request) {
  Result<Window> window = WindowFromQuery(request, ctx.max_window_seconds);
  if (!window.ok()) return InvalidInput(ctx, request, window.status());
  DigestStatusFacts facts;
  facts.id = DigestId(*window);
  facts.window = *window;
  Result<bool> exists = ctx.storage->Exists(facts.id);
  if (!exists.ok()) return DependencyFailure(ctx, "storage", exists.status());
  facts.stored = *exists;
  if (facts.stored) {
    Result<std::string> manifest = ctx.storage->GetManifest(facts.id);
    if (manifest.ok()) facts.manifest = std::move(manifest).value();
  }
  Result<MarkInfo> mark = ctx.marker->State(facts.id);
  if (!mark.ok()) return DependencyFailure(ctx, "marker", mark.status());
  facts.mark = std::move(mark).value();
  if (!facts.stored && facts.mark.state == MarkState::kInProgress) {
    // Best effort: a store that cannot be read costs /status its detail, not its answer.
    Result<JobState> shared = ctx.job_states->Get(facts.id);
    if (shared.ok()) facts.shared = std::move(shared).value();
  }
  return JsonResponse(200, DigestStatusJson(facts));
}

ApiResponse GetReady(ApiContext& ctx) {
  Status st = ctx.ready ? ctx.ready() : OkStatus();
  if (!st.ok()) return JsonError(503, st.message());
  return JsonResponse(200, R"({"status":"ready"})");
}

ApiResponse GetMetrics(ApiContext& ctx) {
  Result<std::string> text = ctx.stats->Prometheus();
  if (!text.ok()) return ErrorResponse(text.status());
  ApiResponse response;
  response.content_type = "text/plain; version=0.0.4";
  response.body = std::move(text).value();
  return response;
}

ApiResponse GetOpenApi() {
  ApiResponse response;
  response.content_type = "application/yaml";
  response.body = std::string(OpenApiYaml());
  return response;
}

// The failure record as JSON: parsed when it is JSON, else a string.
boost::json::value FailureValue(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return boost::json::value(ValidUtf8(text));  // a store's message: any bytes
  return v;
}

}  // namespace

Result<Window> WindowFromQuery(const ApiRequest& request, int64_t max_window_seconds) {
  std::optional<std::string_view> start = request.Query("start");
  std::optional<std::string_view> stop = request.Query("stop");
  if (!start || start->empty()) return InvalidArgumentError("the start parameter is required");
  if (!stop || stop->empty()) return InvalidArgumentError("the stop parameter is required");
  return MakeWindow(*start, *stop, max_window_seconds);
}

int64_t NowUnixSeconds(const ApiContext& ctx) {
  return (ctx.clock != nullptr ? ctx.clock : SystemClock().get())->NowUnixMillis() / 1000;
}

Result<Window> StartedWindow(const ApiContext& ctx, const Window& window) {
  VPCFLOW_RETURN_IF_ERROR(CheckWindowStarted(window, NowUnixSeconds(ctx)));
  return window;
}

std::string_view DigestStateName(const DigestStatusFacts& facts) {
  if (facts.stored) return "done";
  switch (facts.mark.state) {
    case MarkState::kInProgress:
      if (facts.mark.phase == MarkPhase::kRunning ||
          (facts.shared && facts.shared->phase == JobPhase::kRunning)) {
        return "running";
      }
      return "queued";
    case MarkState::kFailed:
      return "failed";
    case MarkState::kAbsent:
    case MarkState::kStale:
      break;
  }
  return "unknown";
}

std::string DigestStatusJson(const DigestStatusFacts& facts) {
  namespace json = boost::json;
  json::object out;
  out["id"] = facts.id;
  out["start"] = FormatRfc3339(facts.window.start);
  out["stop"] = FormatRfc3339(facts.window.stop);
  const std::string_view state = DigestStateName(facts);
  out["state"] = json::string_view(state.data(), state.size());
  out["progress"] = nullptr;
  out["shards"] = nullptr;
  out["holders"] = nullptr;
  if (state == "running" && facts.shared) {
    const DigestProgress& p = facts.shared->progress;
    out["progress"] = {{"objects_done", p.objects_done},
                       {"objects_total", p.objects_total},
                       {"bytes_done", p.bytes_done},
                       {"bytes_total", p.bytes_total}};
  }
  if ((state == "running" || state == "queued") && facts.shared) {
    if (facts.shared->shards_total > 0) {
      out["shards"] = {{"done", facts.shared->shards_done}, {"total", facts.shared->shards_total}};
    }
    if (!facts.shared->holders.empty()) {
      json::object holders;
      for (const auto& [task, worker] : facts.shared->holders) holders[task] = worker;
      out["holders"] = std::move(holders);
    }
  }
  out["provisional"] = nullptr;
  if (state == "done") out["provisional"] = ManifestIsProvisional(facts.manifest);
  out["counts"] = nullptr;
  if (state == "done" && !facts.manifest.empty()) {
    boost::system::error_code ec;
    json::value manifest = json::parse(facts.manifest, ec);
    if (!ec && manifest.is_object()) {
      if (const json::value* summary = manifest.as_object().if_contains("summary")) {
        out["counts"] = *summary;
      }
    }
  }
  out["error"] = nullptr;
  if (state == "failed") out["error"] = FailureValue(facts.mark.failure);
  return json::serialize(out);
}

void AddApiRoutes(Router& router, ApiContext* ctx) {
  router.Add({.method = "GET",
              .pattern = "/healthz",
              .name = "healthz",
              .handler = [](const ApiRequest&) { return JsonResponse(200, R"({"status":"ok"})"); },
              .access = Access::kOpen});
  router.Add({.method = "GET",
              .pattern = "/readyz",
              .name = "readyz",
              .handler = [ctx](const ApiRequest&) { return GetReady(*ctx); },
              .dispatch = Dispatch::kBlocking,
              .access = Access::kOpen});
  router.Add({.method = "GET",
              .pattern = "/metrics",
              .name = "metrics",
              .handler = [ctx](const ApiRequest&) { return GetMetrics(*ctx); }});
  if (ctx->routes == ApiRoutes::kProbesOnly) return;
  router.Add({.method = "POST",
              .pattern = "/",
              .name = "post_digest",
              .handler = [ctx](const ApiRequest& r) { return PostDigest(*ctx, r); },
              .dispatch = Dispatch::kBlocking});
  router.Add({.method = "GET",
              .pattern = "/",
              .name = "get_digest",
              .handler = [ctx](const ApiRequest& r) { return GetDigest(*ctx, r); },
              .dispatch = Dispatch::kBlocking});
  router.Add({.method = "POST",
              .pattern = "/{topic}/{event}",
              .name = "run_job",
              .dispatch = Dispatch::kAsync,
              .access = Access::kWorker,
              .async_handler = [ctx](const ApiRequest& r, const ApiResponder& respond) {
                RunJob(*ctx, r, respond);
              }});
  router.Add({.method = "GET",
              .pattern = "/status",
              .name = "status",
              .handler = [ctx](const ApiRequest& r) { return GetStatus(*ctx, r); },
              .dispatch = Dispatch::kBlocking});
  router.Add({.method = "GET",
              .pattern = "/openapi.yaml",
              .name = "openapi",
              .handler = [](const ApiRequest&) { return GetOpenApi(); }});
  AddQueryRoutes(router, ctx);
}

}  // namespace vpcflow
