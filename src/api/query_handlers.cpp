#include "api/query_handlers.hpp"

#include <atomic>
#include <memory>
#include <utility>

#include "api/web_ui.hpp"
#include "api/writer_stream.hpp"
#include "query/query.hpp"
#include "query/row_source.hpp"

namespace vpcflow {
namespace {

// Queries running in this process: each holds a thread and up to its result in memory.
std::atomic<int> g_running_queries{0};

class QuerySlot {
 public:
  QuerySlot() : held_(g_running_queries.fetch_add(1) < kMaxConcurrentQueries) {}
  ~QuerySlot() { g_running_queries.fetch_sub(1); }
  QuerySlot(const QuerySlot&) = delete;
  QuerySlot& operator=(const QuerySlot&) = delete;
  bool held() const { return held_; }

 private:
  const bool held_;
};

constexpr std::string_view kGetRoute = "get_digest";

// A query of GET / is a GET of a digest too: digest_gets counts its outcome as well.
void CountQuery(Stats& stats, std::string_view route, std::string_view outcome) {
  stats.Count("digest_queries", 1, {{"route", route}, {"outcome", outcome}});
  if (route == kGetRoute) stats.Count(kDigestGetsStat, 1, {{"outcome", outcome}});
}
void CountQuery(const ApiContext& ctx, std::string_view route, std::string_view outcome) {
  CountQuery(*ctx.stats, route, outcome);
}

bool IsClientError(const Status& status) {
  // FailedPrecondition: the query needs flows and the digest has no sidecar; asking again
  // will not help, so it is the client's 400, not a 503.
  return IsInvalidArgument(status) || status.code() == StatusCode::kFailedPrecondition;
}

// The outcome a query's result counts as.
std::string_view QueryOutcome(const Status& status) {
  if (status.ok()) return "ok";
  if (IsClientError(status)) return "invalid";
  // The sink's Cancelled: the client went away (or the service stops) before the end.
  if (status.code() == StatusCode::kCancelled) return "cancelled";
  return "error";
}

// The rows of digest `id`: its sidecar when stored, else the gzip text (`text` when the caller
// opened it already). NotFound when the digest is not stored.
Result<RowSourcePtr> OpenRows(ApiContext& ctx, std::string_view id, ObjectReaderPtr text) {
  Result<StoredDigest> rows = ctx.storage->GetRows(id);
  if (rows.ok()) return OpenStoredRows(std::move(rows->reader));
  if (!IsNotFound(rows.status()) && !IsUnimplemented(rows.status())) return rows.status();
  if (text == nullptr) {
    VPCFLOW_ASSIGN_OR_RETURN(StoredDigest stored, ctx.storage->Get(id));
    text = std::move(stored.reader);
  }
  return OpenStoredRows(std::move(text));
}

// The answer for a query that failed before its first byte (counted by the caller).
ApiResponse QueryFailureResponse(ApiContext& ctx, std::string_view route, const Status& status) {
  if (IsClientError(status)) {
    ctx.logger->Log(LogLevel::kInfo, "invalid-input",
                    {{"path", route}, {"reason", status.message()}});
    return JsonError(400, status.message());
  }
  if (IsDataLoss(status)) {
    ctx.logger->Log(LogLevel::kError, "digest-unreadable", {{"reason", status.ToString()}});
    return JsonError(500, "the stored digest cannot be read: " + status.message());
  }
  return DependencyFailure(ctx, "query", status);
}

// As QueryFailureResponse, counted: for a query that failed before it ran.
ApiResponse QueryFailure(ApiContext& ctx, std::string_view route, const Status& status) {
  CountQuery(ctx, route, QueryOutcome(status));
  return QueryFailureResponse(ctx, route, status);
}

// Runs `write` on a stream of its own: a small answer that ends at once is sent whole (with
// its length), an error before the first byte is an error answer, anything else streams.
// The outcome is counted when `write` ends: "ok" only once the whole answer was written.
ApiResponse Answer(ApiContext& ctx, std::string_view route, const QuerySpec& spec,
                   std::shared_ptr<QuerySlot> slot, WriterStream::WriteFn write) {
  // Set by the stream's function: a stream whose thread could not start never ran it, and its
  // failure is counted here.
  auto counted = std::make_shared<std::atomic<bool>>(false);
  auto stream = std::make_unique<WriterStream>([slot = std::move(slot), write = std::move(write),
                                                stats = ctx.stats, route, counted](ByteSink& sink) {
    Status status = write(sink);
    CountQuery(*stats, route, QueryOutcome(status));
    counted->store(true);
    return status;
  });
  if (stream->WaitForOutput()) {
    if (Status status = stream->status(); !status.ok()) {
      return counted->load() ? QueryFailureResponse(ctx, route, status)
                             : QueryFailure(ctx, route, status);
    }
  }
  ApiResponse response;
  response.content_type = QueryFormatMediaType(spec.format);
  if (stream->WaitForOutput() && stream->status().ok()) {
    response.body = stream->TakeAll();
  } else {
    response.stream = std::move(stream);
  }
  return response;
}

// Whether digest `id` has what `spec` needs (the flows count of its sidecar), without reading
// it: OK, the FailedPrecondition a query would return, or the store's error.
Status CheckAnswerable(ApiContext& ctx, std::string_view id, const QuerySpec& spec) {
  if (!spec.needs_flows()) return OkStatus();
  Result<StoredDigest> rows = ctx.storage->GetRows(id);
  if (!rows.ok() && !IsNotFound(rows.status()) && !IsUnimplemented(rows.status())) {
    return rows.status();
  }
  return CheckRowsAnswer(spec, rows.ok());
}

// The headers of a query's answer, for HEAD: GET streams it (chunked) or sends it whole.
ApiResponse HeadAnswer(const QuerySpec& spec) {
  ApiResponse response;
  response.content_type = QueryFormatMediaType(spec.format);
  response.head_of_stream = true;
  return response;
}

ApiResponse Busy(ApiContext& ctx, std::string_view route) {
  CountQuery(ctx, route, "busy");
  return BusyResponse("too many queries at once (" + std::to_string(kMaxConcurrentQueries) +
                      "); retry later");
}

Result<Window> BaseWindowFromQuery(const ApiRequest& request, int64_t max_window_seconds) {
  std::optional<std::string_view> start = request.Query("base_start");
  std::optional<std::string_view> stop = request.Query("base_stop");
  if (!start || start->empty()) return InvalidArgumentError("the base_start parameter is required");
  if (!stop || stop->empty()) return InvalidArgumentError("the base_stop parameter is required");
  Result<Window> window = MakeWindow(*start, *stop, max_window_seconds);
  if (!window.ok()) return InvalidArgumentError("base window: " + window.status().message());
  return window;
}

ApiResponse GetDiff(ApiContext& ctx, const ApiRequest& request) {
  constexpr std::string_view kRoute = "diff";
  Result<Window> base = BaseWindowFromQuery(request, ctx.max_window_seconds);
  Result<Window> current = WindowFromQuery(request, ctx.max_window_seconds);
  Result<QuerySpec> spec = QuerySpecFromRequest(request, /*diff=*/true);
  for (const Status& st : {base.status(), current.status(), spec.status()}) {
    if (!st.ok()) {
      CountQuery(ctx, kRoute, "invalid");
      return InvalidInput(ctx, request, st);
    }
  }
  // HEAD: the headers GET would answer, from whether both digests are stored; nothing runs.
  const bool head = request.method == "HEAD";
  auto slot = std::make_shared<QuerySlot>();
  if (!head && !slot->held()) return Busy(ctx, kRoute);
  std::shared_ptr<RowSource> sources[2];
  const Window windows[2] = {*base, *current};
  for (int i = 0; i < 2; ++i) {
    const std::string id = DigestId(windows[i]);
    Status found = OkStatus();
    if (head) {
      Result<bool> exists = ctx.storage->Exists(id);
      found = !exists.ok() ? exists.status()
              : *exists    ? CheckAnswerable(ctx, id, *spec)
                           : NotFoundError(id);
    } else {
      Result<RowSourcePtr> rows = OpenRows(ctx, id, nullptr);
      found = rows.status();
      if (rows.ok()) sources[i] = std::move(rows).value();
    }
    if (IsNotFound(found)) {
      if (!head) CountQuery(ctx, kRoute, "not_found");
      return JsonError(404, std::string(i == 0 ? "base" : "current") + " digest " + id + " (" +
                                FormatRfc3339(windows[i].start) + " .. " +
                                FormatRfc3339(windows[i].stop) + ") not found");
    }
    if (!found.ok()) {
      return head ? QueryFailureResponse(ctx, kRoute, found) : QueryFailure(ctx, kRoute, found);
    }
  }
  if (head) return HeadAnswer(*spec);
  auto shared_spec = std::make_shared<const QuerySpec>(std::move(spec).value());
  return Answer(ctx, kRoute, *shared_spec, std::move(slot),
                [base = sources[0], current = sources[1], shared_spec](ByteSink& sink) {
                  return RunDiff(*base, *current, *shared_spec, sink);
                });
}

}  // namespace

Result<QuerySpec> QuerySpecFromRequest(const ApiRequest& request, bool diff) {
  auto get = [&request](std::string_view name) {
    return std::string(request.Query(name).value_or(""));
  };
  QueryParams params{.filter = get("filter"),
                     .group_by = get("group_by"),
                     .conversation = get("conversation"),
                     .top = get("top"),
                     .by = get("by"),
                     .format = get("format"),
                     .change = get("change")};
  return ParseQuery(params, diff);
}

ApiResponse QueryDigestHead(ApiContext& ctx, const std::string& id, const QuerySpec& spec) {
  if (Status status = CheckAnswerable(ctx, id, spec); !status.ok()) {
    ctx.stats->Count(kDigestGetsStat, 1, {{"outcome", QueryOutcome(status)}});
    return QueryFailureResponse(ctx, kGetRoute, status);
  }
  ctx.stats->Count(kDigestGetsStat, 1, {{"outcome", "ok"}});
  ApiResponse response = HeadAnswer(spec);
  response.headers.emplace_back("X-Digest-Id", id);
  return response;
}

ApiResponse QueryDigestResponse(ApiContext& ctx, const std::string& id, StoredDigest stored,
                                QuerySpec spec) {
  constexpr std::string_view kRoute = kGetRoute;
  auto slot = std::make_shared<QuerySlot>();
  if (!slot->held()) return Busy(ctx, kRoute);
  Result<RowSourcePtr> rows = OpenRows(ctx, id, std::move(stored.reader));
  if (!rows.ok()) return QueryFailure(ctx, kRoute, rows.status());
  std::shared_ptr<RowSource> source = std::move(rows).value();
  auto shared_spec = std::make_shared<const QuerySpec>(std::move(spec));
  ApiResponse response = Answer(
      ctx, kRoute, *shared_spec, std::move(slot),
      [source, shared_spec](ByteSink& sink) { return RunQuery(*source, *shared_spec, sink); });
  response.headers.emplace_back("X-Digest-Id", id);
  return response;
}

void AddQueryRoutes(Router& router, ApiContext* ctx) {
  router.Add({.method = "GET",
              .pattern = "/diff",
              .name = "diff",
              .handler = [ctx](const ApiRequest& r) { return GetDiff(*ctx, r); },
              .dispatch = Dispatch::kBlocking});
  AddWebUiRoutes(router);
}

}  // namespace vpcflow
