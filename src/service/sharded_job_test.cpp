#include "service/sharded_job.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"
#include "testing/service_corpus.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

namespace json = boost::json;

const Job kJob{.id = DigestId(kCorpusWindow), .window = kCorpusWindow};

// The ledger bucket in memory: revisions as JetStream's (one counter per bucket).
class MemoryLedger final : public LedgerStore {
 public:
  Result<LedgerEntry> Get(std::string_view key) override {
    Result<LedgerEntry> got = NotFoundError("no ledger");
    std::function<void()> after;
    {
      std::lock_guard lock(mu_);
      auto it = values_.find(std::string(key));
      if (it != values_.end()) got = it->second;
      after = std::exchange(after_next_get_, nullptr);
    }
    if (after) after();
    return got;
  }
  // Runs `what` (once) after the next Get read its value: what others do meanwhile.
  void AfterNextGet(std::function<void()> what) {
    std::lock_guard lock(mu_);
    after_next_get_ = std::move(what);
  }
  Result<uint64_t> Create(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mu_);
    if (values_.contains(std::string(key))) return AlreadyExistsError("exists");
    return Set(key, value);
  }
  Result<uint64_t> Update(std::string_view key, std::string_view value,
                          uint64_t revision) override {
    std::lock_guard lock(mu_);
    auto it = values_.find(std::string(key));
    if (it == values_.end() || it->second.revision != revision) {
      return FailedPreconditionError("wrong revision");
    }
    if (lose_next_update_) {
      // Another writer got in first: its change is there, this one must re-read.
      lose_next_update_ = false;
      Set(key, value);
      return FailedPreconditionError("wrong revision");
    }
    return Set(key, value);
  }
  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    values_.erase(std::string(key));
    return OkStatus();
  }
  bool Has(std::string_view key) {
    std::lock_guard lock(mu_);
    return values_.contains(std::string(key));
  }
  void LoseNextUpdate() {
    std::lock_guard lock(mu_);
    lose_next_update_ = true;
  }

 private:
  uint64_t Set(std::string_view key, std::string_view value) {
    values_[std::string(key)] = {.value = std::string(value), .revision = ++revision_};
    return revision_;
  }
  std::mutex mu_;
  std::map<std::string, LedgerEntry> values_;
  uint64_t revision_ = 0;
  bool lose_next_update_ = false;
  std::function<void()> after_next_get_;
};

struct Published {
  std::string subject;
  std::string data;
  std::string msg_id;
};

// A queue that drops a second publish of one message id, as JetStream does.
class MemoryPublisher final : public TaskPublisher {
 public:
  Status Publish(std::string_view subject, std::string_view data,
                 std::string_view msg_id) override {
    if (fail_) return UnavailableError("no server");
    if (!ids_.emplace(msg_id).second) return OkStatus();
    tasks.push_back({std::string(subject), std::string(data), std::string(msg_id)});
    return OkStatus();
  }
  std::vector<Published> Take(std::string_view subject) {
    std::vector<Published> taken, kept;
    for (Published& p : tasks) (p.subject == subject ? taken : kept).push_back(std::move(p));
    tasks = std::move(kept);
    return taken;
  }
  std::vector<Published> tasks;
  bool fail_ = false;

 private:
  std::set<std::string, std::less<>> ids_;
};

class ShardedJobsTest : public ::testing::Test {
 protected:
  ShardedJobsTest()
      : clock_(std::make_shared<FakeClock>()),
        marker_(60000, clock_),
        states_(NewMemoryJobStateStore()),
        tracker_(states_.get()) {
    PutCorpus(source_);
    JobRunnerDeps deps = RunnerDeps();
    deps.in_memory_text_bytes = 0;
    deps.shards.target_text_bytes = 1;  // one object a shard: the corpus is 2 shards
    runner_ = std::make_unique<JobRunner>(deps);
    jobs_ = std::make_unique<ShardedJobs>(ShardedJobDeps{.runner = runner_.get(),
                                                         .states = states_.get(),
                                                         .ledger = &ledger_,
                                                         .publisher = &publisher_,
                                                         .max_deliver = 3});
  }

  // Deps whose hand-off goes to jobs_.
  JobRunnerDeps RunnerDeps() {
    JobRunnerDeps deps{.source = &source_,
                       .storage = &storage_,
                       .marker = &marker_,
                       .logger = &logger_,
                       .stats = &stats_,
                       .clock = clock_.get(),
                       .tracker = &tracker_,
                       .scan = {},
                       .digest_threads = 2};
    deps.hand_off = [this](const Job& job, const JobPlan& plan, bool provisional) {
      return jobs_->HandOff(job, plan, provisional);
    };
    return deps;
  }

  std::string Expected() {
    Result<DigestRun> direct = RunDigest(source_, kCorpusWindow, DigestOptions{});
    EXPECT_OK(direct.status());
    StringSink expected;
    EXPECT_OK(direct->digest.Encode(DigestFormat::kFlowLog, expected));
    return expected.data();
  }

  Status Run(const Published& task, uint64_t delivered = 1) {
    return jobs_->RunTask(task.subject, task.data, delivered, {});
  }

  std::shared_ptr<FakeClock> clock_;
  MemoryObjectSource source_;
  MemoryStorage storage_;
  MemoryMarker marker_;
  MemoryLogger logger_;
  MemoryStats stats_;
  JobStateStorePtr states_;
  JobTracker tracker_;
  MemoryLedger ledger_;
  MemoryPublisher publisher_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<ShardedJobs> jobs_;
};

TEST_F(ShardedJobsTest, ALargeJobBecomesShardTasksThenOneMergeWithTheSameDigest) {
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  ASSERT_OK(runner_->Run(kJob, {}));
  EXPECT_FALSE(storage_.Digest(kJob.id).has_value());
  EXPECT_THAT(storage_.ListPartials(kJob.id),
              IsOkAndHolds(std::vector<std::string>{std::string(kPlanPartialName)}));
  std::vector<Published> shards = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(shards, SizeIs(2));
  EXPECT_THAT(shards[0].msg_id, HasSubstr(".shard."));
  EXPECT_THAT(shards[0].msg_id, ::testing::StartsWith(kJob.id + "."));
  Result<JobState> state = states_->Get(kJob.id);
  ASSERT_OK(state.status());
  EXPECT_EQ(state->shards_total, 2);
  EXPECT_EQ(state->shards_done, 0);
  EXPECT_FALSE(state->holders.contains("digest")) << "the plan task's worker let it go";
  EXPECT_FALSE(tracker_.Get(kJob.id).has_value());
  EXPECT_EQ(marker_.State(kJob.id)->state, MarkState::kInProgress);

  ASSERT_OK(Run(shards[0]));
  EXPECT_THAT(publisher_.tasks, SizeIs(0)) << "no merge before the last shard";
  EXPECT_EQ(states_->Get(kJob.id)->shards_done, 1);
  ASSERT_OK(Run(shards[1]));
  std::vector<Published> merges = publisher_.Take(kMergeTaskSubject);
  ASSERT_THAT(merges, SizeIs(1));
  EXPECT_THAT(merges[0].msg_id, ::testing::StartsWith(kJob.id + "."));
  EXPECT_THAT(merges[0].msg_id, ::testing::EndsWith(".merge"));

  ASSERT_OK(Run(merges[0]));
  std::optional<std::string> stored = storage_.Digest(kJob.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Gunzip(*stored), Expected());
  json::value manifest = json::parse(storage_.Manifest(kJob.id).value_or("{}"));
  EXPECT_EQ(manifest.at("summary").at("objects_read").to_number<int>(), 2);
  EXPECT_THAT(storage_.ListPartials(kJob.id), IsOkAndHolds(SizeIs(0)));
  EXPECT_FALSE(ledger_.Has(kJob.id));
  EXPECT_EQ(marker_.State(kJob.id)->state, MarkState::kAbsent);
  EXPECT_TRUE(IsNotFound(states_->Get(kJob.id).status()));

  // A merge delivered again finds the digest stored and only acknowledges.
  ASSERT_OK(Run(merges[0]));
  EXPECT_EQ(storage_.commits(), 1u);
}

TEST_F(ShardedJobsTest, AShardDoneTwiceIsCountedOnceAndARaceOnTheLedgerIsRetried) {
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> shards = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(shards, SizeIs(2));
  ASSERT_OK(Run(shards[0]));
  ASSERT_OK(Run(shards[0], 2));  // redelivered after its ack was lost
  EXPECT_THAT(publisher_.tasks, SizeIs(0));
  ledger_.LoseNextUpdate();
  ASSERT_OK(Run(shards[1]));
  EXPECT_THAT(publisher_.Take(kMergeTaskSubject), SizeIs(1));
  Result<ShardLedger> ledger = ShardLedgerFromJson(ledger_.Get(kJob.id)->value);
  ASSERT_OK(ledger.status());
  EXPECT_EQ(ledger->done.size(), 2u);
}

TEST_F(ShardedJobsTest, APlanRunAgainUsesTheStoredPlanAndPublishesOnlyWhatIsNotDone) {
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> shards = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(shards, SizeIs(2));
  ASSERT_OK(Run(shards[0]));
  // A third object arrives; the job is re-queued (recovery): the stored plan stands.
  source_.Put(CorpusKey(9, "99999999"), FlowLogBuilder().Add({{Field::kBytes, "9"}}).Gzip());
  publisher_ = MemoryPublisher();  // a new publisher: no message id remembered
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> again = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].msg_id, shards[1].msg_id);
}

TEST_F(ShardedJobsTest, AShardFailingAtItsLastDeliveryEndsTheJobAsFailed) {
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> shards = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(shards, SizeIs(2));
  ASSERT_OK(Run(shards[0]));
  Result<ShardTask> task = ShardTaskFromJson(shards[1].data);
  ASSERT_OK(task.status());
  source_.FailObject(task->shard.objects[0].key, UnavailableError("the disk is gone"));
  EXPECT_TRUE(IsUnavailable(Run(shards[1], 1)));
  EXPECT_EQ(marker_.State(kJob.id)->state, MarkState::kInProgress) << "retried first";
  EXPECT_TRUE(IsUnavailable(Run(shards[1], 3)));
  Result<MarkInfo> info = marker_.State(kJob.id);
  ASSERT_OK(info.status());
  EXPECT_EQ(info->state, MarkState::kFailed);
  EXPECT_THAT(info->failure, HasSubstr("the disk is gone"));
  EXPECT_THAT(storage_.ListPartials(kJob.id), IsOkAndHolds(SizeIs(0)));
  EXPECT_FALSE(ledger_.Has(kJob.id));
  // The job's other tasks find no ledger and are dropped.
  EXPECT_OK(Run(shards[0], 2));
  EXPECT_THAT(publisher_.tasks, SizeIs(0));
}

// The same job planned again after it ended (a failure, then a new POST) within JetStream's
// duplicate window: new message ids, so its tasks are not dropped as duplicates.
TEST_F(ShardedJobsTest, AJobPlannedAgainAfterItFailedGetsNewTasks) {
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> first = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(first, SizeIs(2));
  Result<ShardTask> task = ShardTaskFromJson(first[0].data);
  ASSERT_OK(task.status());
  source_.FailObject(task->shard.objects[0].key, UnavailableError("the disk is gone"));
  EXPECT_TRUE(IsUnavailable(Run(first[0], 3)));  // the last delivery: the job failed
  ASSERT_FALSE(ledger_.Has(kJob.id));

  source_.FailObject(task->shard.objects[0].key, OkStatus(), false);  // the disk is back
  ASSERT_OK(runner_->Run(kJob, {}));                                  // a new POST
  std::vector<Published> second = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(second, SizeIs(2));
  EXPECT_NE(second[0].msg_id, first[0].msg_id);
  // The first plan's tasks, delivered again, are not counted for the second plan.
  ASSERT_OK(Run(first[1], 2));
  EXPECT_THAT(publisher_.tasks, SizeIs(0));
  EXPECT_EQ(ShardLedgerFromJson(ledger_.Get(kJob.id)->value)->done.size(), 0u);
  for (const Published& shard : second) ASSERT_OK(Run(shard));
  std::vector<Published> merges = publisher_.Take(kMergeTaskSubject);
  ASSERT_THAT(merges, SizeIs(1));
  ASSERT_OK(Run(merges[0]));
  EXPECT_EQ(Gunzip(storage_.Digest(kJob.id).value_or("")), Expected());
}

// A shard that stores its partial after its job ended (failed by another task's last delivery,
// then planned anew and its shards done) deletes that partial, and the new plan's merge never
// reads it: the late partial, written from an object changed meanwhile, would change the digest.
TEST_F(ShardedJobsTest, ALateShardOfAnEndedPlanLeavesNoPartialAndIsNeverMerged) {
  ASSERT_OK(runner_->Run(kJob, {}));
  std::vector<Published> first = publisher_.Take(kShardTaskSubject);
  ASSERT_THAT(first, SizeIs(2));
  Result<ShardTask> failing = ShardTaskFromJson(first[0].data);
  Result<ShardTask> late = ShardTaskFromJson(first[1].data);
  ASSERT_OK(failing.status());
  ASSERT_OK(late.status());
  const std::string expected = Expected();
  std::vector<std::string> second_partials;
  // While first[1] runs (after it read the ledger, before it stores its partial): first[0]
  // fails the job, the job is planned again and its new shards are done; then the object of
  // first[1] changes.
  ledger_.AfterNextGet([&] {
    source_.FailObject(failing->shard.objects[0].key, UnavailableError("the disk is gone"));
    EXPECT_TRUE(IsUnavailable(Run(first[0], 3)));
    EXPECT_EQ(marker_.State(kJob.id)->state, MarkState::kFailed);
    source_.FailObject(failing->shard.objects[0].key, OkStatus(), false);
    EXPECT_OK(runner_->Run(kJob, {}));  // a new POST
    for (const Published& shard : publisher_.Take(kShardTaskSubject)) EXPECT_OK(Run(shard));
    Result<std::vector<std::string>> listed = storage_.ListPartials(kJob.id);
    if (listed.ok()) second_partials = *listed;
    source_.Put(late->shard.objects[0].key,
                FlowLogBuilder().Add({{Field::kBytes, "123456789"}}).Gzip());
  });
  ASSERT_OK(Run(first[1]));
  EXPECT_THAT(second_partials, SizeIs(3));  // the plan and two shards
  EXPECT_THAT(storage_.ListPartials(kJob.id), IsOkAndHolds(second_partials))
      << "the late shard's partial is gone, the new plan's are untouched";
  std::vector<Published> merges = publisher_.Take(kMergeTaskSubject);
  ASSERT_THAT(merges, SizeIs(1));
  ASSERT_OK(Run(merges[0]));
  EXPECT_EQ(Gunzip(storage_.Digest(kJob.id).value_or("")), expected);
  EXPECT_THAT(storage_.ListPartials(kJob.id), IsOkAndHolds(SizeIs(0)));
}

TEST_F(ShardedJobsTest, TheLedgerLivesAtLeastAnHourAndFourTimesEveryDelivery) {
  EXPECT_EQ(ShardLedgerTtlMs(30000, 5), kMinShardLedgerTtlMs);
  EXPECT_EQ(ShardLedgerTtlMs(600000, 5), 4 * 5 * 600000);
}

TEST_F(ShardedJobsTest, ASmallJobStaysOneTask) {
  // The defaults: the corpus is far below one task's worth of text.
  runner_ = std::make_unique<JobRunner>(RunnerDeps());
  ASSERT_OK(runner_->Run(kJob, {}));
  EXPECT_THAT(publisher_.tasks, SizeIs(0));
  EXPECT_EQ(Gunzip(storage_.Digest(kJob.id).value_or("")), Expected());
}

// A store that keeps no partials (a user's Storage): the job stays one task, as in-process.
class NoPartialsStorage final : public StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;
  Result<PartialUploadPtr> BeginPartial(std::string_view, std::string_view) override {
    return UnimplementedError("no partials");
  }
  Result<std::vector<std::string>> ListPartials(std::string_view) override {
    return UnimplementedError("no partials");
  }
};

TEST_F(ShardedJobsTest, AStoreWithoutPartialsKeepsTheJobOneTask) {
  NoPartialsStorage storage(&storage_);
  JobRunnerDeps deps = RunnerDeps();
  deps.storage = &storage;
  deps.in_memory_text_bytes = 0;
  deps.shards.target_text_bytes = 1;
  JobRunner runner(deps);
  ASSERT_OK(runner.Run(kJob, {}));
  EXPECT_THAT(publisher_.tasks, SizeIs(0));
  EXPECT_EQ(Gunzip(storage_.Digest(kJob.id).value_or("")), Expected());
}

TEST_F(ShardedJobsTest, TheLedgerTravelsAsJson) {
  ShardLedger ledger{.plan_id = "p1", .total = 3, .done = {"a", "b"}, .provisional = true};
  Result<ShardLedger> back = ShardLedgerFromJson(ShardLedgerToJson(ledger));
  ASSERT_OK(back.status());
  EXPECT_EQ(back->plan_id, "p1");
  EXPECT_EQ(back->total, 3);
  EXPECT_EQ(back->done, ledger.done);
  EXPECT_TRUE(back->provisional);
  EXPECT_TRUE(IsInvalidArgument(ShardLedgerFromJson("{\"total\":\"x\"}").status()));
  EXPECT_TRUE(IsInvalidArgument(ShardLedgerFromJson("not json").status()));
}

}  // namespace
}  // namespace vpcflow
