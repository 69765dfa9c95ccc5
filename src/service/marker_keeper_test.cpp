#include "service/marker_keeper.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <thread>

#include "service/tracking_queuer.hpp"
#include "testing/fake_clock.hpp"
#include "testing/gate.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_queuer.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kTtlMs = 600000;
constexpr int64_t kBeatMs = 1000;

Job JobAt(int hour) {
  const Window window{1546300800 + hour * 3600, 1546300800 + (hour + 1) * 3600};
  return {.id = DigestId(window), .window = window};
}

MarkOwner OwnerNamed(const std::string& instance) {
  MarkOwner owner = ThisMarkOwner();
  owner.instance = instance;
  return owner;
}

// A process of this host that is gone (this pid with another start time).
MarkOwner DeadPredecessor() {
  MarkOwner owner = OwnerNamed("predecessor");
  owner.start_ticks -= 1;
  return owner;
}

MarkOwner OnAnotherHost() {
  MarkOwner owner = OwnerNamed("remote");
  owner.host = "another-host";
  return owner;
}

// One service instance: its marker on the shared store, its queue, its tracker, its keeper.
struct Instance {
  Instance(std::shared_ptr<MemoryMarkerStore> store, std::shared_ptr<FakeClock> clock,
           MemoryStorage* storage, const std::string& name)
      : marker(
            {.ttl_ms = kTtlMs, .heartbeat_ms = kBeatMs, .clock = clock, .owner = OwnerNamed(name)},
            std::move(store)),
        keeper({.marker = &marker,
                .storage = storage,
                .queuer = &tracked,
                .tracker = &tracker,
                .logger = &logger,
                .stats = &stats,
                .interval_ms = kBeatMs}) {}

  MemoryMarker marker;
  MemoryQueuer queuer;
  JobTracker tracker;
  TrackingQueuer tracked{&queuer, &tracker};  // what the keeper queues, the tracker holds
  MemoryLogger logger;
  MemoryStats stats;
  MarkerKeeper keeper;
};

class MarkerKeeperTest : public ::testing::Test {
 protected:
  // A marker of `owner` on the shared store.
  std::unique_ptr<MemoryMarker> MarkerOf(const MarkOwner& owner) {
    return std::make_unique<MemoryMarker>(
        MarkerOptions{.ttl_ms = kTtlMs, .heartbeat_ms = kBeatMs, .clock = clock_, .owner = owner},
        store_);
  }
  MarkInfo InfoOf(const Job& job) {
    Result<MarkInfo> info = us_.marker.State(job.id);
    EXPECT_OK(info.status());
    return info.ok() ? *info : MarkInfo{};
  }

  // A second keeper of `instance` whose marker calls go through `marker`.
  std::unique_ptr<MarkerKeeper> KeeperOf(Instance& instance, Marker* marker) {
    return std::make_unique<MarkerKeeper>(MarkerKeeperDeps{.marker = marker,
                                                           .storage = &storage_,
                                                           .queuer = &instance.tracked,
                                                           .tracker = &instance.tracker,
                                                           .logger = &instance.logger,
                                                           .stats = &instance.stats,
                                                           .interval_ms = kBeatMs});
  }

  std::shared_ptr<MemoryMarkerStore> store_ = std::make_shared<MemoryMarkerStore>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  MemoryStorage storage_;
  Instance us_{store_, clock_, &storage_, "us"};
};

TEST_F(MarkerKeeperTest, HeartbeatsEveryJobThisProcessHolds) {
  for (const Job& job : {JobAt(0), JobAt(1)}) ASSERT_OK(us_.marker.Mark(job.id, job.window));
  us_.tracker.Queued(JobAt(0).id);
  ASSERT_TRUE(us_.tracker.StartRunning(JobAt(1).id));
  for (int round = 0; round < 10; ++round) {
    clock_->AdvanceMillis(3 * kBeatMs);
    EXPECT_EQ(us_.keeper.RunOnce(), 0);
  }
  for (const Job& job : {JobAt(0), JobAt(1)}) {
    EXPECT_EQ(InfoOf(job).state, MarkState::kInProgress);
    EXPECT_EQ(InfoOf(job).written_unix_ms, clock_->NowUnixMillis());
  }
  EXPECT_THAT(us_.queuer.jobs(), IsEmpty());
}

// A marker whose heartbeats wait at a gate (a slow store).
class GatedRefreshMarker final : public MarkerWrapper {
 public:
  GatedRefreshMarker(Marker* target, Gate* gate) : MarkerWrapper(target), gate_(gate) {}
  Status Refresh(std::string_view id) override {
    gate_->Enter();
    return MarkerWrapper::Refresh(id);
  }

 private:
  Gate* gate_;
};

TEST_F(MarkerKeeperTest, RefreshesTheMarkersOfManyJobsAtOnce) {
  // One at a time, a round over a full queue on a slow store outlasted kStaleHeartbeats
  // intervals and the markers of live jobs went stale (make soak, S3 under load).
  Gate gate;
  GatedRefreshMarker slow(&us_.marker, &gate);
  std::unique_ptr<MarkerKeeper> keeper = KeeperOf(us_, &slow);
  constexpr int kJobs = 20;
  for (int hour = 0; hour < kJobs; ++hour) {
    ASSERT_OK(us_.marker.Mark(JobAt(hour).id, JobAt(hour).window));
    us_.tracker.Queued(JobAt(hour).id);
  }
  clock_->AdvanceMillis(3 * kBeatMs);
  std::thread round([&] { keeper->RunOnce(); });
  EXPECT_TRUE(gate.WaitInside(static_cast<int>(kHeartbeatConcurrency)));
  gate.Open();
  round.join();
  EXPECT_EQ(gate.entered(), kJobs);
  EXPECT_EQ(gate.max_inside(), static_cast<int>(kHeartbeatConcurrency));
  for (int hour = 0; hour < kJobs; ++hour) {
    EXPECT_EQ(InfoOf(JobAt(hour)).written_unix_ms, clock_->NowUnixMillis()) << hour;
  }
}

TEST_F(MarkerKeeperTest, ForgetsAQueuedJobThatAWorkerElsewhereClaimedOrFinished) {
  ASSERT_OK(us_.marker.Mark(JobAt(0).id, JobAt(0).window));
  ASSERT_OK(us_.marker.Mark(JobAt(1).id, JobAt(1).window));
  us_.tracker.Queued(JobAt(0).id);
  us_.tracker.Queued(JobAt(1).id);
  ASSERT_OK(MarkerOf(OnAnotherHost())->Claim(JobAt(0).id, JobAt(0).window));
  ASSERT_OK(us_.marker.Unmark(JobAt(1).id));
  us_.keeper.RunOnce();
  EXPECT_FALSE(us_.tracker.Get(JobAt(0).id).has_value());
  EXPECT_FALSE(us_.tracker.Get(JobAt(1).id).has_value());
  EXPECT_EQ(InfoOf(JobAt(0)).owner, OnAnotherHost());
}

// A marker whose Refresh is `refresh`: what happens between a round's look at the jobs this
// process holds and its refresh of one of them.
class RacingRefreshMarker final : public MarkerWrapper {
 public:
  RacingRefreshMarker(Marker* target, std::function<Status(std::string_view)> refresh)
      : MarkerWrapper(target), refresh_(std::move(refresh)) {}
  Status Refresh(std::string_view id) override { return refresh_(id); }

 private:
  std::function<Status(std::string_view)> refresh_;
};

TEST_F(MarkerKeeperTest, AJobThatEndsDuringTheRoundIsNotReportedTakenOver) {
  // It ends while the round refreshes it, and a POST to another instance marks its window
  // again: the marker has another holder, but nothing was taken over (make soak's warnings).
  ASSERT_OK(us_.marker.Claim(JobAt(0).id, JobAt(0).window));
  ASSERT_TRUE(us_.tracker.StartRunning(JobAt(0).id));
  std::unique_ptr<MemoryMarker> other = MarkerOf(OnAnotherHost());
  RacingRefreshMarker racing(&us_.marker, [&](std::string_view id) {
    EXPECT_OK(us_.marker.Unmark(id));
    us_.tracker.Forget(id);
    EXPECT_OK(other->Mark(id, JobAt(0).window));
    return us_.marker.Refresh(id);
  });
  EXPECT_EQ(KeeperOf(us_, &racing)->RunOnce(), 0);
  EXPECT_EQ(us_.logger.Count("job-taken-over"), 0u);
  EXPECT_EQ(InfoOf(JobAt(0)).owner, OnAnotherHost());
}

TEST_F(MarkerKeeperTest, AQueuedJobThatStartsDuringTheRoundIsStillHeld) {
  // Its runner claims the marker while the round refreshes it; on S3 the refresh's conditional
  // write then loses (412). Forgetting the job stopped the heartbeats of a running job.
  ASSERT_OK(us_.marker.Mark(JobAt(0).id, JobAt(0).window));
  us_.tracker.Queued(JobAt(0).id);
  RacingRefreshMarker racing(&us_.marker, [&](std::string_view id) {
    EXPECT_TRUE(us_.tracker.StartRunning(id));
    EXPECT_OK(us_.marker.Claim(id, JobAt(0).window));
    return FailedPreconditionError("the marker was replaced or removed");
  });
  EXPECT_EQ(KeeperOf(us_, &racing)->RunOnce(), 0);
  ASSERT_TRUE(us_.tracker.Get(JobAt(0).id).has_value());
  EXPECT_EQ(us_.tracker.Get(JobAt(0).id)->phase, JobPhase::kRunning);
  EXPECT_EQ(us_.logger.Count("job-taken-over"), 0u);
}

TEST_F(MarkerKeeperTest, ARunningJobTakenOverIsReportedOneThatEndedIsNot) {
  ASSERT_OK(us_.marker.Claim(JobAt(0).id, JobAt(0).window));
  ASSERT_TRUE(us_.tracker.StartRunning(JobAt(0).id));
  ASSERT_TRUE(us_.tracker.StartRunning(JobAt(1).id));  // ended: its marker is already removed
  clock_->AdvanceMillis(kStaleHeartbeats * kBeatMs);   // our heartbeats did not get through
  ASSERT_OK(MarkerOf(OnAnotherHost())->Mark(JobAt(0).id, JobAt(0).window));
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_EQ(us_.logger.Count("job-taken-over"), 1u);
  EXPECT_EQ(us_.logger.Count("dependency-failure"), 0u);
  EXPECT_EQ(InfoOf(JobAt(0)).owner, OnAnotherHost());
}

TEST_F(MarkerKeeperTest, ReQueuesTheJobsOfADeadPredecessorAtOnce) {
  std::unique_ptr<MemoryMarker> predecessor = MarkerOf(DeadPredecessor());
  ASSERT_OK(predecessor->Mark(JobAt(0).id, JobAt(0).window));   // was queued
  ASSERT_OK(predecessor->Claim(JobAt(1).id, JobAt(1).window));  // was running
  EXPECT_EQ(us_.keeper.RunOnce(), 2);
  EXPECT_THAT(us_.queuer.jobs(), UnorderedElementsAre(JobAt(0), JobAt(1)));
  for (const Job& job : {JobAt(0), JobAt(1)}) {
    MarkInfo info = InfoOf(job);
    EXPECT_EQ(info.state, MarkState::kInProgress);
    EXPECT_EQ(info.owner, OwnerNamed("us"));
    EXPECT_EQ(info.phase, MarkPhase::kQueued);
    ASSERT_TRUE(us_.tracker.Get(job.id).has_value());
  }
  ASSERT_EQ(us_.logger.Count("job-recovered"), 2u);
  EXPECT_EQ(us_.stats.CounterTotal("jobs_recovered"), 2);
  EXPECT_EQ(us_.keeper.RunOnce(), 0);  // now ours: not taken again
}

TEST_F(MarkerKeeperTest, TakesOverTheJobOfASilentHolderElsewhereAfterFourHeartbeats) {
  ASSERT_OK(MarkerOf(OnAnotherHost())->Claim(JobAt(0).id, JobAt(0).window));
  clock_->AdvanceMillis(kStaleHeartbeats * kBeatMs - 1);
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_EQ(InfoOf(JobAt(0)).owner, OnAnotherHost());
  clock_->AdvanceMillis(1);
  EXPECT_EQ(us_.keeper.RunOnce(), 1);
  EXPECT_THAT(us_.queuer.jobs(), ElementsAre(JobAt(0)));
  EXPECT_EQ(us_.logger.Events("job-recovered")[0].Field("previous_host"), "another-host");
}

TEST_F(MarkerKeeperTest, AStoredDigestOnlyLosesItsMarker) {
  ASSERT_OK(MarkerOf(DeadPredecessor())->Claim(JobAt(0).id, JobAt(0).window));
  Result<StorageUploadPtr> upload = storage_.Begin(JobAt(0).id);
  ASSERT_OK(upload.status());
  ASSERT_OK((*upload)->Commit("{}"));
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_EQ(InfoOf(JobAt(0)).state, MarkState::kAbsent);
  EXPECT_THAT(us_.queuer.jobs(), IsEmpty());
}

TEST_F(MarkerKeeperTest, AJobThatCannotBeQueuedIsRetriedOnceItsMarkerIsStaleAgain) {
  ASSERT_OK(MarkerOf(DeadPredecessor())->Mark(JobAt(0).id, JobAt(0).window));
  us_.queuer.FailWith(ResourceExhaustedError("the job queue is full"));
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_FALSE(us_.tracker.Get(JobAt(0).id).has_value());
  EXPECT_EQ(InfoOf(JobAt(0)).state, MarkState::kInProgress);  // ours, not refreshed
  us_.queuer.FailWith(OkStatus());
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  clock_->AdvanceMillis(kStaleHeartbeats * kBeatMs);
  EXPECT_EQ(us_.keeper.RunOnce(), 1);
  EXPECT_THAT(us_.queuer.jobs(), ElementsAre(JobAt(0)));
}

TEST_F(MarkerKeeperTest, OfInstancesRecoveringAtOnceExactlyOneTakesEachJob) {
  Instance them(store_, clock_, &storage_, "them");
  std::unique_ptr<MemoryMarker> predecessor = MarkerOf(DeadPredecessor());
  for (int hour = 0; hour < 8; ++hour) {
    ASSERT_OK(predecessor->Mark(JobAt(hour).id, JobAt(hour).window));
  }
  std::thread other([&them] { them.keeper.RunOnce(); });
  us_.keeper.RunOnce();
  other.join();
  EXPECT_EQ(us_.queuer.jobs().size() + them.queuer.jobs().size(), 8u);
}

TEST_F(MarkerKeeperTest, LeavesLiveMarkersAndMarkersWithoutAUsableWindowAlone) {
  ASSERT_OK(MarkerOf(OnAnotherHost())->Claim(JobAt(0).id, JobAt(0).window));
  // A window that does not give the marker's id (a garbled marker).
  ASSERT_OK(MarkerOf(DeadPredecessor())->Mark(JobAt(1).id, JobAt(2).window));
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_THAT(us_.queuer.jobs(), IsEmpty());
}

TEST_F(MarkerKeeperTest, WhenStoppingRecoveringOnlyHeartbeatsGoOn) {
  ASSERT_OK(us_.marker.Claim(JobAt(0).id, JobAt(0).window));
  ASSERT_TRUE(us_.tracker.StartRunning(JobAt(0).id));
  ASSERT_OK(MarkerOf(DeadPredecessor())->Mark(JobAt(1).id, JobAt(1).window));
  us_.keeper.StopRecovering();
  clock_->AdvanceMillis(kBeatMs);
  EXPECT_EQ(us_.keeper.RunOnce(), 0);
  EXPECT_THAT(us_.queuer.jobs(), IsEmpty());
  EXPECT_EQ(InfoOf(JobAt(0)).written_unix_ms, clock_->NowUnixMillis());
}

TEST_F(MarkerKeeperTest, ItsThreadRunsTheFirstRoundAtOnce) {
  ASSERT_OK(MarkerOf(DeadPredecessor())->Mark(JobAt(0).id, JobAt(0).window));
  Instance fresh(store_, clock_, &storage_, "fresh");
  fresh.keeper.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fresh.queuer.jobs().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  fresh.keeper.Stop();
  EXPECT_THAT(fresh.queuer.jobs(), ElementsAre(JobAt(0)));
}

TEST(HeartbeatIntervalTest, IsTheSettingButAtMostAThirdOfTheTtl) {
  EXPECT_EQ(HeartbeatIntervalFor(5000, 600000), 5000);
  EXPECT_EQ(HeartbeatIntervalFor(5000, 6000), 2000);
  EXPECT_EQ(HeartbeatIntervalFor(5000, 3), 10);
  EXPECT_EQ(HeartbeatIntervalFor(std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::max()),
            kMaxHeartbeatMs);
}

}  // namespace
}  // namespace vpcflow
