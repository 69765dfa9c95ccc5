#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "common/process_identity.hpp"
#include "modules/text_format.hpp"
#include "testing/files.hpp"
#include "testing/marker_conformance.hpp"
#include "testing/memory_marker.hpp"
#include "vpcflow/marker.hpp"

namespace vpcflow {
namespace {

INSTANTIATE_TEST_SUITE_P(File, MarkerConformanceTest,
                         ::testing::Values(MarkerFactory(&NewFileMarker)));

// The markers of one test share one store, named by the test's scratch directory.
Result<MarkerPtr> NewMemoryMarker(const std::string& scratch_dir, MarkerOptions options) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<MemoryMarkerStore>> stores;
  std::lock_guard lock(mu);
  std::shared_ptr<MemoryMarkerStore>& store = stores[scratch_dir];
  if (store == nullptr) store = std::make_shared<MemoryMarkerStore>();
  return MarkerPtr(std::make_unique<MemoryMarker>(std::move(options), store));
}
INSTANTIATE_TEST_SUITE_P(Memory, MarkerConformanceTest,
                         ::testing::Values(MarkerFactory(&NewMemoryMarker)));

constexpr Window kWindow{1546300800, 1546304400};

void WriteFileAt(const std::string& path, const std::string& text, int64_t mtime_ms) {
  WriteFile(path, text);
  struct timespec times[2];
  times[0].tv_sec = mtime_ms / 1000;
  times[0].tv_nsec = (mtime_ms % 1000) * 1000000;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

std::set<std::string> VisibleNames(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name != ".lock") names.insert(name);
  }
  return names;
}

class FileMarkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<MarkerPtr> marker = NewFileMarker(scratch_.Sub("progress"), Options());
    ASSERT_OK(marker);
    marker_ = std::move(marker).value();
  }
  std::string Path(const std::string& name) const { return scratch_.Sub("progress/" + name); }
  MarkerOptions Options() const {
    return {.ttl_ms = kTtlMs, .heartbeat_ms = 5000, .clock = clock_};
  }

  static constexpr int64_t kTtlMs = 600000;
  ScratchDir scratch_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(1546300800123);
  MarkerPtr marker_;
};

TEST_F(FileMarkerTest, WritesAJsonMarkerNamingWindowHolderAndHeartbeat) {
  std::string id = "9740a140-ba85-5600-8b93-7b46eec77617";
  ASSERT_OK(marker_->Mark(id, kWindow));
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_in_progress"});
  boost::json::value body = boost::json::parse(ReadFile(Path(id + "_in_progress")));
  EXPECT_EQ(body.at("heartbeat").as_string(), "2019-01-01T00:00:00.123Z");
  EXPECT_EQ(body.at("heartbeat_ms").as_int64(), 5000);
  EXPECT_EQ(body.at("phase").as_string(), "queued");
  EXPECT_EQ(body.at("start").as_string(), "2019-01-01T00:00:00Z");
  EXPECT_EQ(body.at("stop").as_string(), "2019-01-01T01:00:00Z");
  EXPECT_EQ(body.at("owner").at("pid").as_int64(), ::getpid());
  EXPECT_EQ(body.at("owner").at("start_ticks").as_int64(), ThisMarkOwner().start_ticks);
  EXPECT_EQ(body.at("owner").at("host").as_string(), ThisMarkOwner().host);
  EXPECT_EQ(body.at("owner").at("instance").as_string(), ThisMarkOwner().instance);
  ASSERT_OK(marker_->Fail(id, R"({"message":"x"})"));
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_failed"});
  EXPECT_EQ(ReadFile(Path(id + "_failed")), R"({"message":"x"})");
  ASSERT_OK(marker_->Mark(id, kWindow));
  ASSERT_OK(marker_->Unmark(id));
  EXPECT_TRUE(VisibleNames(scratch_.Sub("progress")).empty());
  EXPECT_EQ(marker_->Describe(), "dir:" + scratch_.Sub("progress"));
}

TEST_F(FileMarkerTest, ReadsMarkersWrittenWithSecondsOnly) {
  std::string id = TestDigestId(1);
  WriteFileAt(Path(id + "_in_progress"), "2019-01-01T00:00:00Z\n", 0);
  Result<MarkInfo> info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, 1546300800000);
  EXPECT_EQ(info->window, std::nullopt);
  EXPECT_EQ(info->owner, std::nullopt);
  // The older service never refreshed its markers: they live for the whole TTL, not a few
  // heartbeats, and they are nobody's to refresh.
  EXPECT_THAT(marker_->Refresh(id), StatusIs(StatusCode::kFailedPrecondition));
  clock_->AdvanceMillis(kTtlMs - 124);  // the clock was 123 ms past the marker's time
  EXPECT_EQ(marker_->State(id)->state, MarkState::kInProgress);
  clock_->AdvanceMillis(1);
  info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kStale);
}

TEST_F(FileMarkerTest, FallsBackToTheModificationTimeForAnUnparsableBody) {
  std::string id = TestDigestId(2);
  WriteFileAt(Path(id + "_in_progress"), "", clock_->NowUnixMillis() - 1000);
  EXPECT_THAT(marker_->Mark(id, kWindow), StatusIs(StatusCode::kAlreadyExists));
  WriteFileAt(Path(id + "_in_progress"), "garbage", clock_->NowUnixMillis() - kTtlMs - 1);
  Result<MarkInfo> info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kStale);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis() - kTtlMs - 1);
  ASSERT_OK(marker_->Mark(id, kWindow));
  EXPECT_EQ(marker_->State(id)->written_unix_ms, clock_->NowUnixMillis());
  EXPECT_EQ(marker_->State(id)->window, kWindow);
}

TEST_F(FileMarkerTest, TwoStoresOnOneDirectoryRaceLikeTwoProcesses) {
  // Each FileMarker opens its own lock descriptions, as another process would.
  Result<MarkerPtr> other = NewFileMarker(scratch_.Sub("progress"), Options());
  ASSERT_OK(other);
  std::string id = TestDigestId(3);
  std::latch start(20);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  ASSERT_OK(marker_->Mark(id, kWindow));
  clock_->AdvanceMillis(kTtlMs);
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      Status status = (t % 2 == 0 ? marker_ : *other)->Mark(id, kWindow);
      if (status.ok()) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_in_progress"});
}

TEST_F(FileMarkerTest, RejectsANonPositiveTtlOrHeartbeat) {
  MarkerOptions options = Options();
  options.ttl_ms = 0;
  EXPECT_THAT(NewFileMarker(scratch_.Sub("x"), options), StatusIs(StatusCode::kInvalidArgument));
  options = Options();
  options.heartbeat_ms = -1;
  EXPECT_THAT(NewFileMarker(scratch_.Sub("x"), options), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NewFileMarker("", Options()), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(FileMarkerTest, RemovesTemporariesOfGoneWritersButNotOfLiveOnes) {
  const std::string dir = scratch_.Sub("progress");
  ProcessIdentity gone = ThisProcess();
  gone.start_ticks -= 1;  // this pid, another start time: a killed predecessor
  const std::string dead = dir + "/.x_in_progress.0-1." + ProcessTag(gone) + ".tmp";
  const std::string live = dir + "/.x_in_progress.0-2." + ProcessTag(ThisProcess()) + ".tmp";
  for (const std::string& path : {dead, live}) std::ofstream(path) << "{}";
  ASSERT_OK(NewFileMarker(dir, Options()).status());  // at start-up
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
  std::ofstream(dead) << "{}";
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));  // a job ended
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(live));
}

TEST_F(FileMarkerTest, ReadyLeavesOnlyTheLockFile) {
  ASSERT_OK(marker_->Ready());
  EXPECT_TRUE(VisibleNames(scratch_.Sub("progress")).empty());
}

TEST(MarkStateNameTest, NamesEveryStateAndPhase) {
  EXPECT_EQ(MarkStateName(MarkState::kAbsent), "absent");
  EXPECT_EQ(MarkStateName(MarkState::kInProgress), "in_progress");
  EXPECT_EQ(MarkStateName(MarkState::kStale), "stale");
  EXPECT_EQ(MarkStateName(MarkState::kFailed), "failed");
  EXPECT_EQ(MarkPhaseName(MarkPhase::kQueued), "queued");
  EXPECT_EQ(MarkPhaseName(MarkPhase::kRunning), "running");
}

}  // namespace
}  // namespace vpcflow
