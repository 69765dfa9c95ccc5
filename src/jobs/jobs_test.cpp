// Planning into shards, shards into partials, partials merged: the same digest as RunDigest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "digest/partial_run.hpp"
#include "generate/generator.hpp"
#include "jobs/job_plan.hpp"
#include "jobs/merge_partials.hpp"
#include "jobs/run_shard.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z

std::string Key(const std::string& account, const std::string& hhmm, int n,
                const char* ext = ".log.gz") {
  return "AWSLogs/" + account + "/vpcflowlogs/eu-west-1/2019/01/01/" + account +
         "_vpcflowlogs_eu-west-1_fl-1_20190101T" + hhmm + "Z_" + std::to_string(1000 + n) + ext;
}

std::vector<std::string> Names(const JobPlan& plan) {
  std::vector<std::string> names;
  for (const Shard& s : plan.shards) names.push_back(s.name);
  return names;
}

TEST(PlanJobTest, GroupsByAccountRegionAndHourAndSplitsAtTheTarget) {
  MemoryObjectSource source;
  for (int i = 0; i < 5; ++i) source.Put(Key("123456789012", "0010", i), std::string(100, 'x'));
  source.Put(Key("123456789012", "0110", 9), std::string(100, 'x'));
  source.Put(Key("210987654321", "0020", 7, ".log"), std::string(100, 'x'));
  source.Put(Key("210987654321", "0020", 8, ".log"), std::string(3000, 'x'));
  // gzip text counts 5x its size: two 100-byte objects (1000 bytes of text) fit a 1200 target.
  Result<JobPlan> plan = PlanJob(source, {kT0, kT0 + 2 * 3600}, {}, {.target_text_bytes = 1200});
  ASSERT_OK(plan);
  EXPECT_THAT(
      Names(*plan),
      ElementsAre("123456789012-eu-west-1-2019010100-0", "123456789012-eu-west-1-2019010100-1",
                  "123456789012-eu-west-1-2019010100-2", "123456789012-eu-west-1-2019010101-0",
                  "210987654321-eu-west-1-2019010100-0", "210987654321-eu-west-1-2019010100-1"));
  EXPECT_EQ(plan->shards[0].objects.size(), 2u);
  EXPECT_EQ(plan->shards[0].estimated_text_bytes, 1000u);
  EXPECT_EQ(plan->shards[2].objects.size(), 1u);
  EXPECT_EQ(plan->shards[5].estimated_text_bytes, 3000u);  // alone above the target
  EXPECT_EQ(plan->planning.objects_listed, 8u);

  // Deterministic, and the same through JSON.
  Result<JobPlan> again = PlanJob(source, {kT0, kT0 + 2 * 3600}, {}, {.target_text_bytes = 1200});
  ASSERT_OK(again);
  EXPECT_EQ(again->shards, plan->shards);
  Result<JobPlan> parsed = JobPlanFromJson(JobPlanToJson(*plan));
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->shards, plan->shards);
  EXPECT_EQ(parsed->window, plan->window);
  EXPECT_EQ(parsed->planning.objects_listed, 8u);
  Result<ShardTask> task = ShardTaskFromJson(ShardTaskToJson(plan->window, plan->shards[1]));
  ASSERT_OK(task);
  EXPECT_EQ(task->shard, plan->shards[1]);
  EXPECT_EQ(task->window, plan->window);
  EXPECT_EQ(task->plan_id, "");
  Result<ShardTask> of_plan =
      ShardTaskFromJson(ShardTaskToJson(plan->window, plan->shards[1], "plan-7"));
  ASSERT_OK(of_plan);
  EXPECT_EQ(of_plan->plan_id, "plan-7");
}

TEST(PlanJobTest, RefusesBadPlansAndNewerVersions) {
  EXPECT_THAT(JobPlanFromJson("{}"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(JobPlanFromJson("[1]"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ShardTaskFromJson(R"({"version":2})"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      ShardTaskFromJson(
          R"({"version":1,"window":{"start":1,"stop":2},"shard":{"name":"../x","stored_bytes":1,"estimated_text_bytes":1,"objects":[]}})"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("partial name")));
}

struct Sharded {
  DigestRun run;
  size_t shards = 0;
};

// Plans `window` into shards of about `target` text bytes, runs each into a partial, merges.
Result<Sharded> RunSharded(ObjectSource& source, const Window& window, uint64_t target,
                           uint64_t memory_limit, const std::string& spill_dir) {
  VPCFLOW_ASSIGN_OR_RETURN(JobPlan plan,
                           PlanJob(source, window, {}, {.target_text_bytes = target}));
  // Through JSON, as a worker gets it.
  VPCFLOW_ASSIGN_OR_RETURN(plan, JobPlanFromJson(JobPlanToJson(plan)));
  std::vector<ObjectReaderPtr> partials;
  for (const Shard& shard : plan.shards) {
    StringSink sink;
    VPCFLOW_ASSIGN_OR_RETURN(
        DigestSummary summary,
        RunShard(source, window, shard,
                 {.threads = 2, .memory_limit = memory_limit, .spill_dir = spill_dir}, sink));
    (void)summary;
    partials.push_back(NewSharedStringReader(std::make_shared<const std::string>(sink.Release())));
  }
  VPCFLOW_ASSIGN_OR_RETURN(DigestRun run,
                           MergePartials(std::move(partials), plan.planning,
                                         {.memory_limit = memory_limit, .spill_dir = spill_dir}));
  return Sharded{std::move(run), plan.shards.size()};
}

std::string Flowlog(const Digest& digest) {
  StringSink sink;
  EXPECT_OK(digest.Encode(DigestFormat::kFlowLog, sink));
  return sink.Release();
}

TEST(ShardedDigestTest, EqualsTheSingleProcessDigest) {
  ScratchDir corpus;
  ScratchDir spill;
  GenerateOptions g;
  g.out_dir = corpus.path();
  g.window = {kT0 + 23 * 3600, kT0 + 25 * 3600};
  g.size_mb = 3;
  g.accounts = 3;
  g.hosts = 500;
  g.layout = GenerateLayout::kHourly;
  g.threads = 2;
  ASSERT_OK(GenerateCorpus(g));
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.path());
  ASSERT_OK(source);
  const Window window{kT0 + 23 * 3600 + 420, kT0 + 24 * 3600 + 60};
  DigestOptions options;
  options.threads = 2;
  Result<DigestRun> want = RunDigest(**source, window, options);
  ASSERT_OK(want);
  const std::string want_text = Flowlog(want->digest);

  for (uint64_t memory_limit : {kDefaultMemoryLimit, kMinMemoryLimit}) {
    for (uint64_t target : {uint64_t{256} << 20, uint64_t{600} << 10}) {
      SCOPED_TRACE("limit " + std::to_string(memory_limit) + " target " + std::to_string(target));
      Result<Sharded> got = RunSharded(**source, window, target, memory_limit, spill.path());
      ASSERT_OK(got);
      if (target < (uint64_t{1} << 20)) {
        EXPECT_GT(got->shards, 4u);
      }
      const DigestSummary& a = got->run.summary;
      const DigestSummary& b = want->summary;
      EXPECT_EQ(a.window, b.window);
      EXPECT_EQ(a.objects_listed, b.objects_listed);
      EXPECT_EQ(a.objects_read, b.objects_read);
      EXPECT_EQ(a.objects_out_of_range, b.objects_out_of_range);
      EXPECT_EQ(a.bytes_compressed, b.bytes_compressed);
      EXPECT_EQ(a.bytes_uncompressed, b.bytes_uncompressed);
      EXPECT_EQ(a.lines, b.lines);
      EXPECT_EQ(a.keys, b.keys);
      const std::string text = Flowlog(got->run.digest);
      ASSERT_EQ(text.size(), want_text.size());
      EXPECT_TRUE(text == want_text);
    }
  }
}

TEST(ShardedDigestTest, ACorruptPartialIsDataLossNamingIt) {
  MemoryObjectSource source;
  source.Put(Key("123456789012", "0010", 1, ".log"),
             "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 100 1546300800 1546300860 "
             "ACCEPT OK\n");
  Result<JobPlan> plan = PlanJob(source, {kT0, kT0 + 3600}, {});
  ASSERT_OK(plan);
  ASSERT_EQ(plan->shards.size(), 1u);
  StringSink sink;
  ASSERT_OK(RunShard(source, plan->window, plan->shards[0], {}, sink));
  std::string good = sink.Release();
  std::string bad = good;
  bad[30] = static_cast<char>(bad[30] ^ 1);
  std::vector<ObjectReaderPtr> partials;
  partials.push_back(NewSharedStringReader(std::make_shared<const std::string>(good)));
  partials.push_back(NewSharedStringReader(std::make_shared<const std::string>(bad)));
  EXPECT_THAT(MergePartials(std::move(partials), plan->planning, {}),
              StatusIs(StatusCode::kDataLoss, HasSubstr("partial 1")));
}

}  // namespace
}  // namespace vpcflow
