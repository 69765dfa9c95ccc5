#include "service/job_runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <future>

#include "query/row_file.hpp"
#include "query/test_rows.hpp"
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

class JobRunnerTest : public ::testing::Test {
 protected:
  JobRunnerTest() : clock_(std::make_shared<FakeClock>()), marker_(60000, clock_) {
    PutCorpus(source_);
  }

  JobRunnerDeps Deps() {
    return {.source = &source_,
            .storage = &storage_,
            .marker = &marker_,
            .logger = &logger_,
            .stats = &stats_,
            .clock = clock_.get(),
            .tracker = &tracker_,
            .scan = {},
            .digest_threads = 2};
  }

  MarkInfo State() {
    Result<MarkInfo> info = marker_.State(kJob.id);
    EXPECT_OK(info.status());
    return info.ok() ? *info : MarkInfo{};
  }

  std::shared_ptr<FakeClock> clock_;
  MemoryObjectSource source_;
  MemoryStorage storage_;
  MemoryMarker marker_;
  MemoryLogger logger_;
  MemoryStats stats_;
  JobTracker tracker_;
};

TEST_F(JobRunnerTest, StoresTheDigestAndItsManifestThenUnmarks) {
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  JobRunner runner(Deps());
  ASSERT_OK(runner.Run(kJob, {}));

  Result<DigestRun> direct = RunDigest(source_, kCorpusWindow, DigestOptions{});
  ASSERT_OK(direct.status());
  StringSink expected;
  ASSERT_OK(direct->digest.Encode(DigestFormat::kFlowLog, expected));
  std::optional<std::string> stored = storage_.Digest(kJob.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Gunzip(*stored), expected.data());

  json::value manifest = json::parse(storage_.Manifest(kJob.id).value_or("{}"));
  EXPECT_EQ(manifest.at("id").as_string(), kJob.id);
  EXPECT_EQ(manifest.at("window").at("start").as_string(), kCorpusStart);
  EXPECT_EQ(manifest.at("window").at("stop").as_string(), kCorpusStop);
  EXPECT_EQ(manifest.at("format").as_string(), "flowlog");
  EXPECT_EQ(manifest.at("version").as_string(), Version());
  EXPECT_EQ(manifest.at("created").as_string(), "2019-01-01T00:00:00.000Z");
  EXPECT_EQ(manifest.at("digest_bytes").to_number<uint64_t>(), stored->size());
  EXPECT_EQ(manifest.at("rows").to_number<uint64_t>(), direct->digest.size());
  EXPECT_EQ(manifest.at("summary").at("objects_read").to_number<int>(), 2);
  EXPECT_TRUE(manifest.at("timings").at("total_seconds").is_number());

  EXPECT_EQ(State().state, MarkState::kAbsent);
  EXPECT_FALSE(tracker_.Get(kJob.id).has_value());
  EXPECT_EQ(logger_.Count("job-start"), 1u);
  ASSERT_THAT(logger_.Events("job-done"), SizeIs(1));
  EXPECT_EQ(logger_.Events("job-done")[0].Field("rows"), std::to_string(direct->digest.size()));
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "done"}}), 1);
  EXPECT_EQ(stats_.CounterTotal("digest_objects", {{"outcome", "read"}}), 2);
  EXPECT_GT(stats_.CounterTotal("digest_lines", {{"outcome", "used"}}), 5);
  EXPECT_EQ(stats_.TimingCount("job_ms"), 1u);
}

TEST_F(JobRunnerTest, ADigestPlannedBeforeItsWindowSettledIsProvisionalAndReplacedOnceSettled) {
  JobRunnerDeps deps = Deps();
  deps.settle_seconds = 1200;
  JobRunner runner(deps);
  auto provisional = [&] {
    json::value manifest = json::parse(storage_.Manifest(kJob.id).value_or("{}"));
    return manifest.at("provisional").as_bool();
  };
  clock_->SetUnixMillis((kCorpusWindow.stop + 1199) * 1000);
  ASSERT_OK(runner.Run(kJob, {}));
  EXPECT_TRUE(provisional());
  ASSERT_OK(runner.Run(kJob, {}));  // still settling: kept
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "already_stored"}}), 1);

  clock_->SetUnixMillis((kCorpusWindow.stop + 1200) * 1000);
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  ASSERT_OK(runner.Run(kJob, {}));  // settled: made again, final
  EXPECT_FALSE(provisional());
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "done"}}), 2);
  EXPECT_EQ(State().state, MarkState::kAbsent);
  ASSERT_OK(runner.Run(kJob, {}));  // final: never again
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "already_stored"}}), 2);
}

TEST_F(JobRunnerTest, StoresTheRowsSidecarWithTheDigest) {
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  JobRunner runner(Deps());
  ASSERT_OK(runner.Run(kJob, {}));
  Result<DigestRun> direct = RunDigest(source_, kCorpusWindow, DigestOptions{});
  ASSERT_OK(direct.status());

  Result<StoredDigest> rows = storage_.GetRows(kJob.id);
  ASSERT_OK(rows.status());
  Result<RowSourcePtr> stored = OpenStoredRows(std::move(rows->reader));
  ASSERT_OK(stored.status());
  EXPECT_TRUE((*stored)->has_flows());
  RowSourcePtr expected = NewDigestRowSource(direct->digest);
  EXPECT_EQ(testing_rows::RowTexts(**stored), testing_rows::RowTexts(*expected));
}

// Counts the partials committed through it.
class PartialCountingStorage final : public StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;
  Result<PartialUploadPtr> BeginPartial(std::string_view id, std::string_view name) override {
    ++begun;
    return StorageWrapper::BeginPartial(id, name);
  }
  int begun = 0;
};

// Issue 10: a large job runs as shards stored as partials, merged into the same digest; the
// partials are gone once the digest is stored.
TEST_F(JobRunnerTest, ALargeJobRunsAsStoredPartialsWithTheSameDigest) {
  PartialCountingStorage storage(&storage_);
  JobRunnerDeps deps = Deps();
  deps.storage = &storage;
  deps.in_memory_text_bytes = 0;
  deps.shards.target_text_bytes = 1;  // one object a shard
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  JobRunner runner(deps);
  ASSERT_OK(runner.Run(kJob, {}));

  Result<DigestRun> direct = RunDigest(source_, kCorpusWindow, DigestOptions{});
  ASSERT_OK(direct.status());
  StringSink expected;
  ASSERT_OK(direct->digest.Encode(DigestFormat::kFlowLog, expected));
  std::optional<std::string> stored = storage_.Digest(kJob.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Gunzip(*stored), expected.data());
  EXPECT_EQ(storage.begun, 2);
  EXPECT_THAT(storage_.ListPartials(kJob.id), IsOkAndHolds(SizeIs(0)));
  json::value manifest = json::parse(storage_.Manifest(kJob.id).value_or("{}"));
  EXPECT_EQ(manifest.at("rows").to_number<uint64_t>(), direct->digest.size());
  EXPECT_EQ(manifest.at("summary").at("objects_read").to_number<int>(), 2);
  EXPECT_EQ(manifest.at("summary").at("lines_total").to_number<uint64_t>(),
            direct->summary.lines_total());
  EXPECT_EQ(State().state, MarkState::kAbsent);
}

TEST_F(JobRunnerTest, AnAlreadyStoredDigestIsDoneAtOnce) {
  JobRunner runner(Deps());
  ASSERT_OK(runner.Run(kJob, {}));
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));  // a repeated delivery
  ASSERT_OK(runner.Run(kJob, {}));
  EXPECT_EQ(storage_.commits(), 1u);
  EXPECT_EQ(State().state, MarkState::kAbsent);
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "already_stored"}}), 1);
}

TEST_F(JobRunnerTest, AFailureLeavesAFailureRecordAndNoMarker) {
  source_.FailList("", UnavailableError("bucket unreachable"));
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  JobRunner runner(Deps());
  EXPECT_THAT(runner.Run(kJob, {}), StatusIs(StatusCode::kUnavailable));
  MarkInfo info = State();
  EXPECT_EQ(info.state, MarkState::kFailed);
  json::value failure = json::parse(info.failure);
  EXPECT_EQ(failure.at("code").as_string(), "UNAVAILABLE");
  EXPECT_THAT(std::string(failure.at("message").as_string()), HasSubstr("bucket unreachable"));
  EXPECT_EQ(storage_.size(), 0u);
  ASSERT_THAT(logger_.Events("job-failed"), SizeIs(1));
  EXPECT_EQ(logger_.Events("job-failed")[0].level, LogLevel::kError);
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "failed"}}), 1);
  // A new mark (a new POST) is allowed.
  EXPECT_OK(marker_.Mark(kJob.id, kJob.window));
}

TEST_F(JobRunnerTest, AStoreFailureIsAFailureToo) {
  class FullStorage : public StorageWrapper {
   public:
    using StorageWrapper::StorageWrapper;
    Result<StorageUploadPtr> Begin(std::string_view) override {
      return UnavailableError("disk full");
    }
  } full(&storage_);
  JobRunnerDeps deps = Deps();
  deps.storage = &full;
  JobRunner runner(deps);
  EXPECT_THAT(runner.Run(kJob, {}), StatusIs(StatusCode::kUnavailable, HasSubstr("disk full")));
  EXPECT_EQ(State().state, MarkState::kFailed);
}

TEST_F(JobRunnerTest, ACancelledJobLeavesItsMarkerForTheNextInstance) {
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  std::stop_source stop;
  stop.request_stop();
  JobRunner runner(Deps());
  EXPECT_THAT(runner.Run(kJob, stop.get_token()), StatusIs(StatusCode::kCancelled));
  MarkInfo info = State();
  EXPECT_EQ(info.state, MarkState::kInProgress);
  EXPECT_EQ(info.window, kJob.window);
  EXPECT_EQ(storage_.size(), 0u);
  EXPECT_FALSE(tracker_.Get(kJob.id).has_value());
  EXPECT_EQ(logger_.Count("job-cancelled"), 1u);
  EXPECT_EQ(stats_.CounterTotal("jobs", {{"outcome", "cancelled"}}), 1);
}

TEST_F(JobRunnerTest, ClaimsTheMarkerWhileItRuns) {
  ASSERT_OK(marker_.Mark(kJob.id, kJob.window));
  EXPECT_EQ(State().phase, MarkPhase::kQueued);
  GatedSource gated(&source_);
  JobRunnerDeps deps = Deps();
  deps.source = &gated;
  JobRunner runner(deps);
  auto done = std::async(std::launch::async, [&] { return runner.Run(kJob, {}); });
  gated.WaitOpened();
  EXPECT_EQ(State().phase, MarkPhase::kRunning);
  EXPECT_EQ(State().owner, ThisMarkOwner());
  gated.Release();
  EXPECT_OK(done.get());
  EXPECT_EQ(State().state, MarkState::kAbsent);
}

TEST_F(JobRunnerTest, AJobAnotherLiveInstanceRunsIsLeftToIt) {
  MarkOwner other = ThisMarkOwner();
  other.instance = "another-instance";
  auto store = std::make_shared<MemoryMarkerStore>();
  MemoryMarker theirs({.ttl_ms = 60000, .heartbeat_ms = 5000, .clock = clock_, .owner = other},
                      store);
  MemoryMarker ours({.ttl_ms = 60000, .heartbeat_ms = 5000, .clock = clock_}, store);
  ASSERT_OK(theirs.Claim(kJob.id, kJob.window));
  JobRunnerDeps deps = Deps();
  deps.marker = &ours;
  JobRunner runner(deps);
  EXPECT_OK(runner.Run(kJob, {}));
  EXPECT_EQ(storage_.commits(), 0u);
  EXPECT_EQ(logger_.Count("job-duplicate"), 1u);
  EXPECT_EQ(ours.State(kJob.id)->owner, other);
  EXPECT_FALSE(tracker_.Get(kJob.id).has_value());
}

TEST_F(JobRunnerTest, AJobDeliveredWithoutAMarkerIsMarkedWhileItRuns) {
  GatedSource gated(&source_);
  JobRunnerDeps deps = Deps();
  deps.source = &gated;
  JobRunner runner(deps);
  auto done = std::async(std::launch::async, [&] { return runner.Run(kJob, {}); });
  gated.WaitOpened();
  EXPECT_EQ(State().state, MarkState::kInProgress);
  gated.Release();
  EXPECT_OK(done.get());
  EXPECT_EQ(State().state, MarkState::kAbsent);
  EXPECT_TRUE(storage_.Digest(kJob.id).has_value());
}

TEST_F(JobRunnerTest, ARedeliveryWhileRunningIsAcknowledgedAtOnce) {
  GatedSource gated(&source_);
  JobRunnerDeps deps = Deps();
  deps.source = &gated;
  JobRunner runner(deps);
  auto first = std::async(std::launch::async, [&] { return runner.Run(kJob, {}); });
  gated.WaitOpened();
  EXPECT_OK(runner.Run(kJob, {}));  // the bus timed out and delivered again
  EXPECT_EQ(logger_.Count("job-duplicate"), 1u);
  EXPECT_EQ(storage_.commits(), 0u);
  ASSERT_TRUE(tracker_.Get(kJob.id).has_value());  // still the first one's
  gated.Release();
  EXPECT_OK(first.get());
  EXPECT_EQ(storage_.commits(), 1u);
  EXPECT_EQ(logger_.Count("job-start"), 1u);
}

TEST(FailureJsonTest, HasCodeMessageAndTime) {
  json::value v = json::parse(FailureJson(DataLossError("bad \"gzip\""), 1546300800123));
  EXPECT_EQ(v.at("code").as_string(), "DATA_LOSS");
  EXPECT_EQ(v.at("message").as_string(), "bad \"gzip\"");
  EXPECT_EQ(v.at("time").as_string(), "2019-01-01T00:00:00.123Z");
}

}  // namespace
}  // namespace vpcflow
