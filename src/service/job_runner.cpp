#include "service/job_runner.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/provisional.hpp"
#include "common/parallel_gzip_sink.hpp"
#include "jobs/job_plan.hpp"
#include "jobs/local_job.hpp"
#include "modules/text_format.hpp"
#include "query/row_file.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;

// The upload body seen through a gzip sink: the gzip sink closes its target on Close(), but
// an upload body must be left open for Commit(). Counts the bytes for the manifest.
class UploadBodySink final : public ByteSink {
 public:
  explicit UploadBodySink(ByteSink& body) : body_(body) {}
  Status Append(std::string_view bytes) override {
    bytes_ += bytes.size();
    return body_.Append(bytes);
  }
  Status Close() override { return OkStatus(); }
  uint64_t bytes() const { return bytes_; }

 private:
  ByteSink& body_;
  uint64_t bytes_ = 0;
};

double SecondsBetween(int64_t t0_ms, int64_t t1_ms) {
  return static_cast<double>(t1_ms - t0_ms) / 1000.0;
}

json::string_view Json(std::string_view s) { return json::string_view(s.data(), s.size()); }

uint64_t PlannedTextBytes(const JobPlan& plan) {
  uint64_t text = 0;
  for (const Shard& shard : plan.shards) text += shard.estimated_text_bytes;
  return text;
}

}  // namespace

std::string ManifestJson(const Job& job, const DigestSummary& summary, const JobTimings& timings,
                         uint64_t digest_bytes, int64_t created_unix_ms, bool provisional) {
  json::object m;
  m["id"] = job.id;
  m["window"] = {{"start", FormatRfc3339(job.window.start)},
                 {"stop", FormatRfc3339(job.window.stop)}};
  m["format"] = "flowlog";
  m["version"] = Json(Version());
  m["created"] = FormatRfc3339Millis(created_unix_ms);
  m["provisional"] = provisional;
  m["digest_bytes"] = digest_bytes;
  m["rows"] = summary.keys;
  m["timings"] = {{"digest_seconds", timings.digest_seconds},
                  {"store_seconds", timings.store_seconds},
                  {"total_seconds", timings.total_seconds}};
  boost::system::error_code ec;
  json::value parsed = json::parse(summary.ToJson(), ec);
  m["summary"] = ec ? json::value(nullptr) : std::move(parsed);
  return json::serialize(m);
}

std::string FailureJson(const Status& status, int64_t unix_ms) {
  json::object f;
  f["code"] = Json(StatusCodeName(status.code()));
  f["message"] = status.message();
  f["time"] = FormatRfc3339Millis(unix_ms);
  return json::serialize(f);
}

Status JobRunner::Run(const Job& job, const std::stop_token& stop) {
  const JobRunnerDeps& d = deps_;
  if (!d.tracker->StartRunning(job.id)) {
    // A bus redelivered a job this process is running (its first delivery timed out): the
    // running one will store the digest; acknowledge without digesting twice.
    d.logger->Log(LogLevel::kInfo, "job-duplicate", {{"id", job.id}});
    return OkStatus();
  }
  const int64_t t0 = d.clock->MonotonicMillis();
  d.logger->Log(LogLevel::kInfo, "job-start",
                {{"id", job.id},
                 {"start", FormatRfc3339(job.window.start)},
                 {"stop", FormatRfc3339(job.window.stop)}});
  auto finish = [&](Status st, std::string_view outcome) {
    d.tracker->Forget(job.id);
    d.stats->Count("jobs", 1, {{"outcome", outcome}});
    d.stats->Timing("job_ms", static_cast<double>(d.clock->MonotonicMillis() - t0),
                    {{"outcome", outcome}});
    return st;
  };

  const int64_t now_s = d.clock->NowUnixMillis() / 1000;
  Result<DigestStanding> standing =
      StandingOf(*d.storage, job.id, job.window, now_s, d.settle_seconds);
  if (standing.ok() &&
      (*standing == DigestStanding::kFinal || *standing == DigestStanding::kProvisional)) {
    (void)d.marker->Unmark(job.id);
    d.logger->Log(LogLevel::kInfo, "job-done", {{"id", job.id}, {"already_stored", true}});
    return finish(OkStatus(), "already_stored");
  }
  if (Status claim = d.marker->Claim(job.id, job.window); !claim.ok()) {
    if (IsAlreadyExists(claim)) {
      // A bus delivered it here too, or two instances took over one orphan: one runs it.
      d.logger->Log(LogLevel::kInfo, "job-duplicate",
                    {{"id", job.id}, {"reason", claim.message()}});
      return finish(OkStatus(), "duplicate");
    }
    // The marker store fails: run anyway (the digest was asked for); GET may say 404 meanwhile.
    d.logger->Log(LogLevel::kWarn, "dependency-failure",
                  {{"dependency", "marker"}, {"reason", claim.ToString()}, {"id", job.id}});
  }

  // Planned now: provisional when the window has not settled (late records may still arrive).
  const bool provisional = IsProvisionalAt(job.window, now_s, d.settle_seconds);
  Status st;
  JobTimings timings;
  uint64_t digest_bytes = 0;
  Result<DigestRun> run = CancelledError("not run");
  {
    // plan -> shards -> partials -> merge (jobs/local_job.hpp): one in-memory shard unless the
    // job is large, then partials in the digest Storage.
    LocalJobOptions options;
    options.id = job.id;
    options.storage = d.storage;
    options.threads = d.digest_threads;
    options.stop = stop;
    options.memory_limit = d.memory_limit;
    options.spill_dir = d.spill_dir;
    options.in_memory_text_bytes = d.in_memory_text_bytes;
    options.on_progress = [&d, &job](const DigestProgress& p) { d.tracker->Progress(job.id, p); };
    if (stop.stop_requested()) {
      run = CancelledError("digest cancelled");
    } else if (Result<JobPlan> plan = PlanJob(*d.source, job.window, d.scan, d.shards);
               !plan.ok()) {
      run = plan.status();
    } else if (uint64_t text = PlannedTextBytes(*plan);
               d.hand_off && plan->shards.size() > 1 && text > d.in_memory_text_bytes &&
               !IsUnimplemented(d.storage->ListPartials(job.id).status())) {
      // Too large for one task: shard tasks for every worker (service/sharded_job.hpp).
      if (Status handed = d.hand_off(job, *plan, provisional); !handed.ok()) {
        run = handed;
      } else {
        d.tracker->HandOff(job.id);
        d.stats->Count("jobs", 1, {{"outcome", "sharded"}});
        d.logger->Log(LogLevel::kInfo, "job-sharded",
                      {{"id", job.id},
                       {"shards", static_cast<uint64_t>(plan->shards.size())},
                       {"estimated_text_bytes", text}});
        return OkStatus();
      }
    } else {
      run = RunPlannedJob(*d.source, *plan, options);
    }
    timings.digest_seconds = SecondsBetween(t0, d.clock->MonotonicMillis());
    st = run.ok() ? Store(job, *run, provisional, &timings, t0, &digest_bytes) : run.status();
  }

  // The partials of a stored digest (or of a failed job: a retry redoes every shard) go; left
  // ones only cost space, so a failure to delete them is logged, not fatal.
  if (st.code() != StatusCode::kCancelled) {
    if (Status deleted = d.storage->DeletePartials(job.id);
        !deleted.ok() && !IsUnimplemented(deleted)) {
      d.logger->Log(LogLevel::kWarn, "dependency-failure",
                    {{"dependency", "storage"}, {"reason", deleted.ToString()}, {"id", job.id}});
    }
  }
  if (st.ok()) {
    if (Status unmark = d.marker->Unmark(job.id); !unmark.ok()) {
      d.logger->Log(LogLevel::kWarn, "dependency-failure",
                    {{"dependency", "marker"}, {"reason", unmark.ToString()}, {"id", job.id}});
    }
    RecordSuccess(job, run->summary, timings, digest_bytes);
    return finish(st, "done");
  }
  if (st.code() == StatusCode::kCancelled) {
    // Handed back: the marker stays, naming this process, which is about to exit; the next
    // instance on these stores takes the job over (MarkerKeeper). No failure record.
    d.logger->Log(LogLevel::kWarn, "job-cancelled", {{"id", job.id}, {"reason", st.message()}});
    return finish(st, "cancelled");
  }
  RecordFailure(job, st, d.clock->MonotonicMillis() - t0);
  return finish(st, "failed");
}

void JobRunner::RecordFailure(const Job& job, const Status& st, int64_t duration_ms) {
  const JobRunnerDeps& d = deps_;
  // Fail() replaces the marker in one step; unmarking first would let a new POST mark the
  // digest in between and then lose its marker to the failure record.
  if (Status fail = d.marker->Fail(job.id, FailureJson(st, d.clock->NowUnixMillis())); !fail.ok()) {
    (void)d.marker->Unmark(job.id);
  }
  d.logger->Log(LogLevel::kError, "job-failed",
                {{"id", job.id},
                 {"code", StatusCodeName(st.code())},
                 {"reason", st.message()},
                 {"duration_ms", duration_ms}});
}

Status JobRunner::Store(const Job& job, const DigestRun& run, bool provisional, JobTimings* timings,
                        int64_t t0_ms, uint64_t* digest_bytes) {
  const JobRunnerDeps& d = deps_;
  const int64_t store_t0 = d.clock->MonotonicMillis();
  Result<StorageUploadPtr> upload = d.storage->Begin(job.id);
  if (!upload.ok()) return upload.status().WithContext("storage");
  UploadBodySink body((*upload)->body());
  // Deflated on every core (one gzip member; the bytes do not depend on the threads).
  ByteSinkPtr gzip = NewParallelGzipSink(&body);
  if (ByteSink* rows_body = (*upload)->rows_body(); rows_body != nullptr) {
    // With the rows sidecar (what queries need that the text lacks) when the store keeps them:
    // both from one walk of the rows, each compressed on a thread of its own.
    VPCFLOW_RETURN_IF_ERROR(
        WriteFlowLogAndRowFile(run.digest, *gzip, *rows_body).WithContext("storage"));
  } else {
    VPCFLOW_RETURN_IF_ERROR(
        run.digest.Encode(DigestFormat::kFlowLog, *gzip).WithContext("storage"));
  }
  VPCFLOW_RETURN_IF_ERROR(gzip->Close().WithContext("storage"));
  *digest_bytes = body.bytes();
  const int64_t now = d.clock->MonotonicMillis();
  timings->store_seconds = SecondsBetween(store_t0, now);
  timings->total_seconds = SecondsBetween(t0_ms, now);
  const std::string manifest = ManifestJson(job, run.summary, *timings, *digest_bytes,
                                            d.clock->NowUnixMillis(), provisional);
  return (*upload)->Commit(manifest).WithContext("storage");
}

void JobRunner::RecordSuccess(const Job& job, const DigestSummary& s, const JobTimings& timings,
                              uint64_t digest_bytes) {
  const JobRunnerDeps& d = deps_;
  d.logger->Log(LogLevel::kInfo, "job-done",
                {{"id", job.id},
                 {"rows", s.keys},
                 {"objects_read", s.objects_read},
                 {"objects_failed", s.objects_failed},
                 {"bytes_read", s.bytes_compressed},
                 {"digest_bytes", digest_bytes},
                 {"digest_seconds", timings.digest_seconds},
                 {"total_seconds", timings.total_seconds}});
  for (const ObjectProblem& p : s.problems) {
    d.logger->Log(
        LogLevel::kWarn, "object-skipped",
        {{"id", job.id}, {"key", p.key}, {"kind", ProblemKindName(p.kind)}, {"reason", p.reason}});
  }
  auto objects = [&d](std::string_view outcome, uint64_t n) {
    if (n > 0) d.stats->Count("digest_objects", static_cast<int64_t>(n), {{"outcome", outcome}});
  };
  objects("read", s.objects_read);
  objects("failed", s.objects_failed);
  objects("vanished", s.objects_vanished);
  objects("not_a_file", s.objects_not_files);
  objects("empty", s.objects_empty);
  objects("ignored", s.objects_ignored);
  // Of the objects read, those read as Parquet (not an outcome of its own: they are in "read").
  if (s.objects_parquet > 0) {
    d.stats->Count("digest_objects_parquet", static_cast<int64_t>(s.objects_parquet));
  }
  for (size_t i = 0; i < kLineOutcomeCount; ++i) {
    if (s.lines[i] == 0) continue;
    d.stats->Count("digest_lines", static_cast<int64_t>(s.lines[i]),
                   {{"outcome", LineOutcomeName(static_cast<LineOutcome>(i))}});
  }
  d.stats->Count("digest_rows", static_cast<int64_t>(s.keys));
  d.stats->Count("digest_bytes_read", static_cast<int64_t>(s.bytes_compressed));
  d.stats->Timing("digest_ms", timings.digest_seconds * 1000.0);
  d.stats->Timing("digest_store_ms", timings.store_seconds * 1000.0);
}

}  // namespace vpcflow
