#include "service/sharded_job.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/provisional.hpp"
#include "jobs/merge_partials.hpp"
#include "jobs/run_shard.hpp"
#include "modules/marker/mark_record.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;

// Lost compare-and-sets in a row before a ledger update gives up (as many writers at once).
constexpr int kMaxLedgerAttempts = 100;

std::string ShardTaskName(std::string_view shard) { return "shard/" + std::string(shard); }

Result<std::string> ReadAll(ObjectReader& reader) {
  std::string out;
  std::array<char, size_t{64} * 1024> buffer;
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(size_t n, reader.Read(buffer));
    if (n == 0) return out;
    out.append(buffer.data(), n);
  }
}

class KvLedgerStore final : public LedgerStore {
 public:
  explicit KvLedgerStore(KvBucket* bucket) : bucket_(bucket) {}
  Result<LedgerEntry> Get(std::string_view key) override {
    VPCFLOW_ASSIGN_OR_RETURN(KvEntry entry, bucket_->Get(key));
    return LedgerEntry{.value = std::move(entry.value), .revision = entry.revision};
  }
  Result<uint64_t> Create(std::string_view key, std::string_view value) override {
    return bucket_->Create(key, value);
  }
  Result<uint64_t> Update(std::string_view key, std::string_view value,
                          uint64_t revision) override {
    return bucket_->Update(key, value, revision);
  }
  Status Delete(std::string_view key) override { return bucket_->Delete(key); }

 private:
  KvBucket* bucket_;
};

class WorkQueuePublisher final : public TaskPublisher {
 public:
  explicit WorkQueuePublisher(WorkQueue* queue) : queue_(queue) {}
  Status Publish(std::string_view subject, std::string_view data,
                 std::string_view msg_id) override {
    return queue_->Publish(subject, data, msg_id).status();
  }

 private:
  WorkQueue* queue_;
};

}  // namespace

std::unique_ptr<LedgerStore> NewKvLedgerStore(KvBucket* bucket) {
  return std::make_unique<KvLedgerStore>(bucket);
}

std::unique_ptr<TaskPublisher> NewWorkQueuePublisher(WorkQueue* queue) {
  return std::make_unique<WorkQueuePublisher>(queue);
}

std::string ShardPartialName(std::string_view plan_id, std::string_view shard) {
  if (plan_id.empty()) return std::string(shard);
  return std::string(plan_id) + "." + std::string(shard);
}

int64_t ShardLedgerTtlMs(int64_t ack_wait_ms, int64_t max_deliver) {
  return std::max<int64_t>(kMinShardLedgerTtlMs, 4 * std::max<int64_t>(max_deliver, 1) *
                                                     std::max<int64_t>(ack_wait_ms, 0));
}

std::string ShardLedgerToJson(const ShardLedger& ledger) {
  json::array done;
  for (const std::string& name : ledger.done) done.emplace_back(name);
  return json::serialize(json::object{{"plan", ledger.plan_id},
                                      {"total", ledger.total},
                                      {"done", std::move(done)},
                                      {"provisional", ledger.provisional}});
}

Result<ShardLedger> ShardLedgerFromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* plan = o != nullptr ? o->if_contains("plan") : nullptr;
  const json::value* total = o != nullptr ? o->if_contains("total") : nullptr;
  const json::value* done = o != nullptr ? o->if_contains("done") : nullptr;
  const json::value* provisional = o != nullptr ? o->if_contains("provisional") : nullptr;
  if (plan == nullptr || !plan->is_string() || total == nullptr || !total->is_int64() ||
      total->as_int64() < 0 || done == nullptr || !done->is_array() || provisional == nullptr ||
      !provisional->is_bool()) {
    return InvalidArgumentError("not a shard ledger");
  }
  ShardLedger ledger{.plan_id = std::string(plan->as_string()),
                     .total = total->as_int64(),
                     .provisional = provisional->as_bool()};
  for (const json::value& name : done->as_array()) {
    if (!name.is_string()) return InvalidArgumentError("not a shard ledger: a name not a string");
    ledger.done.emplace(name.as_string());
  }
  return ledger;
}

Status ShardedJobs::HandOff(const Job& job, const JobPlan& plan, bool provisional) {
  const JobRunnerDeps& d = deps_.runner->deps();
  Result<LedgerEntry> existing = deps_.ledger->Get(job.id);
  if (existing.ok()) {
    // Planned before (a redelivered plan task, a job re-queued by recovery): the stored plan
    // and ledger stand; publish again what is not done (message ids drop duplicates).
    VPCFLOW_ASSIGN_OR_RETURN(ShardLedger ledger, ShardLedgerFromJson(existing->value));
    VPCFLOW_ASSIGN_OR_RETURN(JobPlan stored, LoadPlan(job.id));
    return PublishShards(job, stored, ledger);
  }
  if (!IsNotFound(existing.status())) return existing.status().WithContext("shard ledger");

  const std::string context = "partial " + std::string(kPlanPartialName);
  Result<PartialUploadPtr> upload = d.storage->BeginPartial(job.id, kPlanPartialName);
  if (!upload.ok()) return upload.status().WithContext(context);
  VPCFLOW_RETURN_IF_ERROR((*upload)->body().Append(JobPlanToJson(plan)).WithContext(context));
  VPCFLOW_RETURN_IF_ERROR((*upload)->Commit().WithContext(context));

  ShardLedger ledger{.plan_id = NewInstanceId(),
                     .total = static_cast<int64_t>(plan.shards.size()),
                     .provisional = provisional};
  Result<uint64_t> created = deps_.ledger->Create(job.id, ShardLedgerToJson(ledger));
  if (!created.ok()) return created.status().WithContext("shard ledger");
  (void)deps_.states->Update(job.id, [&](JobState& s) {
    s.phase = JobPhase::kRunning;
    s.shards_total = ledger.total;
    s.shards_done = 0;
    return OkStatus();
  });
  return PublishShards(job, plan, ledger);
}

Status ShardedJobs::PublishShards(const Job& job, const JobPlan& plan, const ShardLedger& ledger) {
  if (static_cast<int64_t>(ledger.done.size()) >= ledger.total) return PublishMerge(job, ledger);
  for (const Shard& shard : plan.shards) {
    if (ledger.done.contains(shard.name)) continue;
    VPCFLOW_RETURN_IF_ERROR(deps_.publisher->Publish(
        kShardTaskSubject, ShardTaskToJson(plan.window, shard, ledger.plan_id),
        job.id + "." + ledger.plan_id + ".shard." + shard.name));
  }
  return OkStatus();
}

Status ShardedJobs::PublishMerge(const Job& job, const ShardLedger& ledger) {
  return deps_.publisher->Publish(kMergeTaskSubject, JobToJson(job),
                                  job.id + "." + ledger.plan_id + ".merge");
}

Result<JobPlan> ShardedJobs::LoadPlan(std::string_view id) {
  const std::string context = "partial " + std::string(kPlanPartialName);
  Result<ObjectReaderPtr> reader = deps_.runner->deps().storage->OpenPartial(id, kPlanPartialName);
  if (!reader.ok()) return reader.status().WithContext(context);
  Result<std::string> text = ReadAll(**reader);
  if (!text.ok()) return text.status().WithContext(context);
  Result<JobPlan> plan = JobPlanFromJson(*text);
  // A stored plan that does not parse is lost data, not a bad task: retried, then failed.
  if (!plan.ok()) return DataLossError(context + ": " + plan.status().message());
  return plan;
}

Status ShardedJobs::RunTask(std::string_view subject, std::string_view data, uint64_t delivered,
                            const std::stop_token& stop) {
  if (subject == kShardTaskSubject) return RunShardTask(data, delivered, stop);
  if (subject == kMergeTaskSubject) return RunMergeTask(data, delivered, stop);
  return InvalidArgumentError("not a task subject: " + std::string(subject));
}

Status ShardedJobs::RunShardTask(std::string_view data, uint64_t delivered, std::stop_token stop) {
  const JobRunnerDeps& d = deps_.runner->deps();
  VPCFLOW_ASSIGN_OR_RETURN(ShardTask task, ShardTaskFromJson(data));
  const Job job{.id = DigestId(task.window), .window = task.window};
  const Shard& shard = task.shard;
  Result<LedgerEntry> entry = deps_.ledger->Get(job.id);
  if (IsNotFound(entry.status())) {
    // The job ended (stored, or failed by another task): nothing to do.
    d.logger->Log(LogLevel::kInfo, "shard-dropped", {{"id", job.id}, {"shard", shard.name}});
    return OkStatus();
  }
  if (!entry.ok()) return MaybeFail(job, entry.status().WithContext("shard ledger"), delivered);
  VPCFLOW_ASSIGN_OR_RETURN(ShardLedger ledger, ShardLedgerFromJson(entry->value));
  if (ledger.plan_id != task.plan_id) {
    // A task of an earlier plan of the job (it failed, and was asked for again): not this one's.
    d.logger->Log(LogLevel::kInfo, "shard-dropped",
                  {{"id", job.id}, {"shard", shard.name}, {"reason", "an earlier plan's task"}});
    return OkStatus();
  }

  if (!ledger.done.contains(shard.name)) {
    // The job's marker names a live worker while shards run (recovery leaves it alone).
    (void)d.marker->Claim(job.id, job.window);
    SetHolder(job.id, ShardTaskName(shard.name), true);
    int64_t refreshed_ms = d.clock->MonotonicMillis();
    ShardRunOptions options{.threads = d.digest_threads,
                            .stop = std::move(stop),
                            .memory_limit = d.memory_limit,
                            .spill_dir = d.spill_dir};
    options.on_progress = [&](const DigestProgress&) {
      const int64_t now = d.clock->MonotonicMillis();
      if (now - refreshed_ms < deps_.marker_refresh_ms) return;
      refreshed_ms = now;
      if (d.marker->Refresh(job.id).code() == StatusCode::kFailedPrecondition) {
        (void)d.marker->Claim(job.id, job.window);  // held by a gone worker: take it
      }
    };
    const std::string partial = ShardPartialName(task.plan_id, shard.name);
    const std::string context = "partial " + partial;
    Status st = [&]() -> Status {
      Result<PartialUploadPtr> upload = d.storage->BeginPartial(job.id, partial);
      if (!upload.ok()) return upload.status().WithContext(context);
      VPCFLOW_RETURN_IF_ERROR(
          RunShard(*d.source, job.window, shard, options, (*upload)->body()).status());
      return (*upload)->Commit().WithContext(context);
    }();
    if (st.ok()) {
      bool ended = false;
      st = RecordDone(job.id, task.plan_id, shard.name, &ledger, &ended);
      if (st.ok() && ended) {
        // The job ended (or was planned anew) while this shard ran: not counted, and its
        // partial (named by its plan, so no later plan's merge reads it) goes now, as the
        // ended job's others went.
        SetHolder(job.id, ShardTaskName(shard.name), false);
        if (Status deleted = d.storage->DeletePartial(job.id, partial); !deleted.ok()) {
          d.logger->Log(
              LogLevel::kWarn, "dependency-failure",
              {{"dependency", "storage"}, {"reason", deleted.ToString()}, {"id", job.id}});
        }
        d.logger->Log(
            LogLevel::kInfo, "shard-dropped",
            {{"id", job.id}, {"shard", shard.name}, {"reason", "the job ended meanwhile"}});
        return OkStatus();
      }
    }
    SetHolder(job.id, ShardTaskName(shard.name), false);
    if (!st.ok()) return MaybeFail(job, std::move(st), delivered);
    d.logger->Log(LogLevel::kInfo, "shard-done",
                  {{"id", job.id},
                   {"shard", shard.name},
                   {"done", static_cast<uint64_t>(ledger.done.size())},
                   {"total", ledger.total}});
  }
  // Whoever sees every shard done publishes the merge (again after a crash in between: the
  // message id and the merge's own check make a second one harmless).
  if (static_cast<int64_t>(ledger.done.size()) >= ledger.total) {
    if (Status st = PublishMerge(job, ledger); !st.ok()) return MaybeFail(job, st, delivered);
  }
  return OkStatus();
}

Status ShardedJobs::RecordDone(std::string_view id, std::string_view plan_id,
                               const std::string& name, ShardLedger* ledger, bool* ended) {
  for (int attempt = 0; attempt < kMaxLedgerAttempts; ++attempt) {
    Result<LedgerEntry> entry = deps_.ledger->Get(id);
    if (IsNotFound(entry.status())) {
      *ended = true;
      return OkStatus();
    }
    if (!entry.ok()) return entry.status().WithContext("shard ledger");
    VPCFLOW_ASSIGN_OR_RETURN(*ledger, ShardLedgerFromJson(entry->value));
    if (ledger->plan_id != plan_id) {
      *ended = true;
      return OkStatus();
    }
    if (!ledger->done.insert(name).second) return OkStatus();  // done twice: counted once
    Result<uint64_t> updated =
        deps_.ledger->Update(id, ShardLedgerToJson(*ledger), entry->revision);
    if (updated.ok()) {
      const auto done = static_cast<int64_t>(ledger->done.size());
      (void)deps_.states->Update(id, [&](JobState& s) {
        if (s.shards_total == 0 && s.holders.empty()) return NotFoundError("no state");
        s.shards_total = ledger->total;
        s.shards_done = std::max(s.shards_done, done);
        return OkStatus();
      });
      return OkStatus();
    }
    if (updated.status().code() != StatusCode::kFailedPrecondition) {
      return updated.status().WithContext("shard ledger");
    }
  }
  return UnavailableError("shard ledger: too many concurrent updates");
}

Status ShardedJobs::RunMergeTask(std::string_view data, uint64_t delivered, std::stop_token stop) {
  const JobRunnerDeps& d = deps_.runner->deps();
  VPCFLOW_ASSIGN_OR_RETURN(Job job, JobFromJson(data, deps_.max_window_seconds));
  Result<bool> stored = d.storage->Exists(job.id);
  if (stored.ok() && *stored) {
    // Merged before (a redelivered merge killed after storing): finish the clean-up.
    Cleanup(job.id);
    (void)d.marker->Unmark(job.id);
    return OkStatus();
  }
  Result<LedgerEntry> entry = deps_.ledger->Get(job.id);
  if (IsNotFound(entry.status())) {
    d.logger->Log(LogLevel::kInfo, "merge-dropped", {{"id", job.id}});
    return OkStatus();
  }
  if (!entry.ok()) return MaybeFail(job, entry.status().WithContext("shard ledger"), delivered);
  VPCFLOW_ASSIGN_OR_RETURN(ShardLedger ledger, ShardLedgerFromJson(entry->value));
  if (static_cast<int64_t>(ledger.done.size()) < ledger.total) {
    // An earlier plan's merge (that plan failed; the job was planned anew and is not done):
    // this plan's last shard publishes its own.
    d.logger->Log(LogLevel::kInfo, "merge-dropped", {{"id", job.id}, {"reason", "shards left"}});
    return OkStatus();
  }
  (void)d.marker->Claim(job.id, job.window);
  SetHolder(job.id, "merge", true);
  Status st = Merge(job, ledger, std::move(stop));  // on success the job's state is gone
  if (!st.ok()) {
    SetHolder(job.id, "merge", false);
    return MaybeFail(job, std::move(st), delivered);
  }
  return OkStatus();
}

Status ShardedJobs::Merge(const Job& job, const ShardLedger& ledger, std::stop_token stop) {
  const JobRunnerDeps& d = deps_.runner->deps();
  const int64_t t0 = d.clock->MonotonicMillis();
  VPCFLOW_ASSIGN_OR_RETURN(JobPlan plan, LoadPlan(job.id));
  std::vector<ObjectReaderPtr> partials;
  for (const Shard& shard : plan.shards) {
    const std::string name = ShardPartialName(ledger.plan_id, shard.name);
    Result<ObjectReaderPtr> reader = d.storage->OpenPartial(job.id, name);
    if (!reader.ok()) return reader.status().WithContext("partial " + name);
    partials.push_back(std::move(reader).value());
  }
  VPCFLOW_ASSIGN_OR_RETURN(DigestRun run, MergePartials(std::move(partials), plan.planning,
                                                        {.memory_limit = d.memory_limit,
                                                         .spill_dir = d.spill_dir,
                                                         .stop = std::move(stop)}));
  JobTimings timings;
  timings.digest_seconds = static_cast<double>(d.clock->MonotonicMillis() - t0) / 1000.0;
  uint64_t digest_bytes = 0;
  VPCFLOW_RETURN_IF_ERROR(
      deps_.runner->Store(job, run, ledger.provisional, &timings, t0, &digest_bytes));
  Cleanup(job.id);
  if (Status unmark = d.marker->Unmark(job.id); !unmark.ok()) {
    d.logger->Log(LogLevel::kWarn, "dependency-failure",
                  {{"dependency", "marker"}, {"reason", unmark.ToString()}, {"id", job.id}});
  }
  d.stats->Count("jobs", 1, {{"outcome", "merged"}});
  deps_.runner->RecordSuccess(job, run.summary, timings, digest_bytes);
  return OkStatus();
}

void ShardedJobs::Cleanup(std::string_view id) {
  const JobRunnerDeps& d = deps_.runner->deps();
  // Left partials or a left ledger only cost space: logged, not fatal.
  if (Status deleted = d.storage->DeletePartials(id); !deleted.ok()) {
    d.logger->Log(LogLevel::kWarn, "dependency-failure",
                  {{"dependency", "storage"}, {"reason", deleted.ToString()}, {"id", id}});
  }
  if (Status deleted = deps_.ledger->Delete(id); !deleted.ok()) {
    d.logger->Log(LogLevel::kWarn, "dependency-failure",
                  {{"dependency", "shard ledger"}, {"reason", deleted.ToString()}, {"id", id}});
  }
  (void)deps_.states->Remove(id);
}

void ShardedJobs::SetHolder(std::string_view id, const std::string& task, bool holding) {
  (void)deps_.states->Update(id, [&](JobState& s) {
    if (holding) {
      s.phase = JobPhase::kRunning;
      s.holders[task] = ThisWorkerName();
    } else if (s.holders.erase(task) == 0) {
      // Not held (the job's state was removed when it ended): write nothing, or it comes back.
      return NotFoundError("not held");
    }
    return OkStatus();
  });
}

Status ShardedJobs::MaybeFail(const Job& job, Status st, uint64_t delivered) {
  if (st.code() == StatusCode::kCancelled || st.code() == StatusCode::kInvalidArgument ||
      delivered < static_cast<uint64_t>(deps_.max_deliver)) {
    return st;
  }
  // The last delivery: the job ends as JobRunner ends a failed one; other tasks of the job
  // find no ledger and are dropped.
  Cleanup(job.id);
  deps_.runner->RecordFailure(job, st, 0);
  deps_.runner->deps().stats->Count("jobs", 1, {{"outcome", "failed"}});
  return st;
}

}  // namespace vpcflow
