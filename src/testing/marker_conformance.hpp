#pragma once
/// The Marker conformance suite. Any implementation, a user's too, runs it with one line in ONE
/// test file of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(File, MarkerConformanceTest,
///       ::testing::Values(MarkerFactory(&NewFileMarker)));
///
/// The factory gets a scratch directory (fresh per test; the same for every marker of one test,
/// which must share one store, like processes sharing a progress store) and the options: a
/// FakeClock that the suite moves to make markers stale (the marker must judge time by it only)
/// and an owner (markers of one test with different owners stand for different services).

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/marker.hpp"

namespace vpcflow {

struct MarkerFactory {
  template <typename F>
  MarkerFactory(F f) : make(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  std::function<Result<MarkerPtr>(const std::string& scratch_dir, MarkerOptions options)> make;
  friend void PrintTo(const MarkerFactory&, std::ostream* os) { *os << "MarkerFactory"; }
};

class MarkerConformanceTest : public ::testing::TestWithParam<MarkerFactory> {
 protected:
  static constexpr int64_t kTtlMs = 60000;
  static constexpr Window kWindow{1546300800, 1546304400};

  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    marker_ = Make(Options());
    ASSERT_NE(marker_, nullptr);
  }

  // This process as an owner, told apart by `instance` (a live holder).
  static MarkOwner Owner(const std::string& instance) {
    MarkOwner owner = ThisMarkOwner();
    owner.instance = instance;
    return owner;
  }

  // The suite's options: the TTL as the heartbeat (markers go stale after the TTL).
  MarkerOptions Options(const std::string& instance = "a") {
    return {.ttl_ms = kTtlMs, .heartbeat_ms = kTtlMs, .clock = clock_, .owner = Owner(instance)};
  }

  MarkerPtr Make(MarkerOptions options) {
    Result<MarkerPtr> marker = GetParam().make(scratch_.path(), std::move(options));
    EXPECT_THAT(marker, IsOk());
    return marker.ok() ? std::move(marker).value() : nullptr;
  }

  MarkInfo InfoOf(const std::string& id, Marker* marker = nullptr) {
    Result<MarkInfo> info = (marker != nullptr ? marker : marker_.get())->State(id);
    EXPECT_THAT(info, IsOk());
    return info.ok() ? *info : MarkInfo{};
  }
  MarkState StateOf(const std::string& id) { return InfoOf(id).state; }

  // Runs `call(markers[t % size])` on `n` threads released together and returns {OK count,
  // AlreadyExists count}; any other result fails the test.
  std::pair<int, int> Race(const std::vector<Marker*>& markers, int n,
                           const std::function<Status(Marker&)>& call) {
    std::latch start(n);
    std::atomic<int> ok{0};
    std::atomic<int> exists{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        Status status = call(*markers[t % markers.size()]);
        if (status.ok()) {
          ++ok;
        } else if (IsAlreadyExists(status)) {
          ++exists;
        } else {
          ADD_FAILURE() << status.ToString();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    return {ok.load(), exists.load()};
  }
  std::pair<int, int> RaceMark(const std::vector<Marker*>& markers, const std::string& id, int n) {
    return Race(markers, n, [&id](Marker& m) { return m.Mark(id, kWindow); });
  }

  ScratchDir scratch_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  MarkerPtr marker_;
};

TEST_P(MarkerConformanceTest, UnknownIdIsAbsent) {
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kAbsent);
  EXPECT_EQ(info->written_unix_ms, 0);
  EXPECT_EQ(info->failure, "");
}

TEST_P(MarkerConformanceTest, MarkMakesItInProgressAtTheClockTime) {
  clock_->AdvanceMillis(1234);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis());
  EXPECT_EQ(StateOf(TestDigestId(2)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, SecondMarkIsAlreadyExistsWhileLive) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  EXPECT_THAT(marker_->Mark(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
  clock_->AdvanceMillis(kTtlMs - 1);
  EXPECT_THAT(marker_->Mark(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
}

TEST_P(MarkerConformanceTest, MarkerGoesStaleAfterTheTtlAndIsReplaced) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  clock_->AdvanceMillis(kTtlMs);
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kStale);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis());
}

TEST_P(MarkerConformanceTest, RefreshKeepsAMarkerLive) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  clock_->AdvanceMillis(kTtlMs - 1);
  ASSERT_OK(marker_->Refresh(TestDigestId(1)));
  clock_->AdvanceMillis(kTtlMs - 1);
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
  EXPECT_THAT(marker_->Mark(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(MarkerConformanceTest, RefreshRevivesAStaleMarker) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  clock_->AdvanceMillis(2 * kTtlMs);
  ASSERT_OK(marker_->Refresh(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
}

TEST_P(MarkerConformanceTest, RefreshWithoutMarkerIsNotFound) {
  EXPECT_THAT(marker_->Refresh(TestDigestId(1)), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_THAT(marker_->Refresh(TestDigestId(1)), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, UnmarkRemovesAndIsIdempotent) {
  EXPECT_OK(marker_->Unmark(TestDigestId(1)));
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
  EXPECT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_OK(marker_->Mark(TestDigestId(1), kWindow));
}

TEST_P(MarkerConformanceTest, FailReplacesTheMarkerWithTheReason) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  clock_->AdvanceMillis(500);
  std::string reason = R"({"code":"UNAVAILABLE","message":"bucket \"x\" unreachable"})";
  ASSERT_OK(marker_->Fail(TestDigestId(1), reason));
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kFailed);
  EXPECT_EQ(info->failure, reason);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis());
  EXPECT_THAT(marker_->Refresh(TestDigestId(1)), StatusIs(StatusCode::kNotFound));
}

TEST_P(MarkerConformanceTest, FailureNeverBlocksMarkWhichClearsIt) {
  ASSERT_OK(marker_->Fail(TestDigestId(1), "boom"));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kFailed);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, RejectsIdsThatAreNotDigestIds) {
  for (std::string bad : {"", "../x", "a/b_in_progress", "9740a140-ba85-5600-8b93-7b46eec7761/"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(marker_->Mark(bad, kWindow), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(marker_->Claim(bad, kWindow), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(marker_->Refresh(bad), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(marker_->Unmark(bad), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(marker_->Fail(bad, "x"), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(marker_->State(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST_P(MarkerConformanceTest, TwentyRacingMarksHaveExactlyOneWinner) {
  for (unsigned round = 0; round < 5; ++round) {
    auto [ok, exists] = RaceMark({marker_.get()}, TestDigestId(round), 20);
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(exists, 19);
  }
}

TEST_P(MarkerConformanceTest, TwentyRacingReplacementsOfAStaleMarkerHaveExactlyOneWinner) {
  for (unsigned round = 0; round < 5; ++round) {
    ASSERT_OK(marker_->Mark(TestDigestId(round), kWindow));
    clock_->AdvanceMillis(kTtlMs + 1);
    auto [ok, exists] = RaceMark({marker_.get()}, TestDigestId(round), 20);
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(exists, 19);
    EXPECT_EQ(StateOf(TestDigestId(round)), MarkState::kInProgress);
  }
}

TEST_P(MarkerConformanceTest, AMarkerNamesItsWindowHolderPhaseAndHeartbeat) {
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  MarkInfo info = InfoOf(TestDigestId(1));
  EXPECT_EQ(info.state, MarkState::kInProgress);
  EXPECT_EQ(info.window, kWindow);
  EXPECT_EQ(info.owner, Owner("a"));
  EXPECT_EQ(info.phase, MarkPhase::kQueued);
  EXPECT_EQ(info.heartbeat_ms, kTtlMs);
  clock_->AdvanceMillis(700);
  ASSERT_OK(marker_->Refresh(TestDigestId(1)));
  info = InfoOf(TestDigestId(1));
  EXPECT_EQ(info.written_unix_ms, clock_->NowUnixMillis());
  EXPECT_EQ(info.window, kWindow);
  EXPECT_EQ(info.phase, MarkPhase::kQueued);
}

TEST_P(MarkerConformanceTest, ClaimMakesTheJobRunningForItsHolder) {
  ASSERT_OK(marker_->Claim(TestDigestId(1), kWindow));  // no marker yet (a bus delivery)
  MarkInfo info = InfoOf(TestDigestId(1));
  EXPECT_EQ(info.state, MarkState::kInProgress);
  EXPECT_EQ(info.phase, MarkPhase::kRunning);
  EXPECT_EQ(info.owner, Owner("a"));
  ASSERT_OK(marker_->Mark(TestDigestId(2), kWindow));
  clock_->AdvanceMillis(5);
  ASSERT_OK(marker_->Claim(TestDigestId(2), kWindow));
  info = InfoOf(TestDigestId(2));
  EXPECT_EQ(info.phase, MarkPhase::kRunning);
  EXPECT_EQ(info.written_unix_ms, clock_->NowUnixMillis());
  ASSERT_OK(marker_->Claim(TestDigestId(2), kWindow));  // its own: again OK
  ASSERT_OK(marker_->Fail(TestDigestId(3), "boom"));
  ASSERT_OK(marker_->Claim(TestDigestId(3), kWindow));  // a retry clears the failure
  EXPECT_EQ(StateOf(TestDigestId(3)), MarkState::kInProgress);
}

TEST_P(MarkerConformanceTest, ClaimTakesOverAQueuedJobButNotOneRunningElsewhere) {
  MarkerPtr other = Make(Options("b"));
  ASSERT_NE(other, nullptr);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));  // queued by a, handed to a bus
  ASSERT_OK(other->Claim(TestDigestId(1), kWindow));   // b's worker gets it
  MarkInfo info = InfoOf(TestDigestId(1));
  EXPECT_EQ(info.owner, Owner("b"));
  EXPECT_EQ(info.phase, MarkPhase::kRunning);
  EXPECT_THAT(marker_->Claim(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(InfoOf(TestDigestId(1)).owner, Owner("b"));
  clock_->AdvanceMillis(kTtlMs);  // b went silent
  ASSERT_OK(marker_->Claim(TestDigestId(1), kWindow));
  EXPECT_EQ(InfoOf(TestDigestId(1)).owner, Owner("a"));
}

TEST_P(MarkerConformanceTest, RefreshOfAnotherHoldersMarkerIsFailedPreconditionAndChangesNothing) {
  MarkerPtr other = Make(Options("b"));
  ASSERT_NE(other, nullptr);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  const int64_t marked_at = clock_->NowUnixMillis();
  clock_->AdvanceMillis(1000);
  EXPECT_THAT(other->Refresh(TestDigestId(1)), StatusIs(StatusCode::kFailedPrecondition));
  MarkInfo info = InfoOf(TestDigestId(1));
  EXPECT_EQ(info.written_unix_ms, marked_at);
  EXPECT_EQ(info.owner, Owner("a"));
  EXPECT_EQ(InfoOf(TestDigestId(1), other.get()).owner, Owner("a"));  // both see one store
}

TEST_P(MarkerConformanceTest, AMarkerGoesStaleAfterFourMissedHeartbeats) {
  MarkerOptions options = Options();
  options.ttl_ms = 3600 * 1000;
  options.heartbeat_ms = 1000;
  MarkerPtr marker = Make(options);
  ASSERT_NE(marker, nullptr);
  ASSERT_OK(marker->Mark(TestDigestId(1), kWindow));
  clock_->AdvanceMillis(kStaleHeartbeats * 1000 - 1);
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).state, MarkState::kInProgress);
  ASSERT_OK(marker->Refresh(TestDigestId(1)));
  clock_->AdvanceMillis(kStaleHeartbeats * 1000 - 1);
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).state, MarkState::kInProgress);
  clock_->AdvanceMillis(1);
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).state, MarkState::kStale);
  EXPECT_OK(marker->Mark(TestDigestId(1), kWindow));
}

TEST_P(MarkerConformanceTest, AMarkerOfAProcessOfThisHostThatIsGoneIsStaleAtOnce) {
  MarkerOptions dead = Options("dead");
  dead.owner->start_ticks -= 1;  // this pid, another start time: that process is gone
  MarkerPtr predecessor = Make(dead);
  ASSERT_NE(predecessor, nullptr);
  ASSERT_OK(predecessor->Claim(TestDigestId(1), kWindow));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kStale);
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  EXPECT_EQ(InfoOf(TestDigestId(1)).owner, Owner("a"));
  // A holder on another host cannot be checked: only its heartbeat says it is gone.
  MarkerOptions remote = Options("remote");
  remote.owner->host = "another-host";
  MarkerPtr elsewhere = Make(remote);
  ASSERT_NE(elsewhere, nullptr);
  ASSERT_OK(elsewhere->Claim(TestDigestId(2), kWindow));
  EXPECT_EQ(StateOf(TestDigestId(2)), MarkState::kInProgress);
  EXPECT_THAT(marker_->Mark(TestDigestId(2), kWindow), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(MarkerConformanceTest, HugeTtlAndHeartbeatNeitherOverflowNorKeepMarkersForever) {
  MarkerOptions options = Options();
  options.ttl_ms = std::numeric_limits<int64_t>::max();
  options.heartbeat_ms = std::numeric_limits<int64_t>::max();
  MarkerPtr marker = Make(options);
  ASSERT_NE(marker, nullptr);
  ASSERT_OK(marker->Mark(TestDigestId(1), kWindow));
  EXPECT_THAT(marker->Mark(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).heartbeat_ms, kMaxHeartbeatMs);
  clock_->AdvanceMillis(kStaleHeartbeats * kMaxHeartbeatMs - 1);
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).state, MarkState::kInProgress);
  EXPECT_THAT(marker->Mark(TestDigestId(1), kWindow), StatusIs(StatusCode::kAlreadyExists));
  clock_->AdvanceMillis(1);
  EXPECT_EQ(InfoOf(TestDigestId(1), marker.get()).state, MarkState::kStale);
}

TEST_P(MarkerConformanceTest, ListsEveryInProgressMarkerWithItsWindow) {
  Result<std::vector<MarkedDigest>> empty = marker_->List();
  if (IsUnimplemented(empty.status())) {
    GTEST_SKIP() << "this marker cannot list";
  }
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  const Window later{kWindow.start + 3600, kWindow.stop + 3600};
  ASSERT_OK(marker_->Mark(TestDigestId(1), kWindow));
  ASSERT_OK(marker_->Claim(TestDigestId(2), later));
  ASSERT_OK(marker_->Fail(TestDigestId(3), "boom"));
  ASSERT_OK(marker_->Mark(TestDigestId(4), kWindow));
  ASSERT_OK(marker_->Unmark(TestDigestId(4)));
  clock_->AdvanceMillis(kTtlMs / 2);
  ASSERT_OK(marker_->Refresh(TestDigestId(2)));
  clock_->AdvanceMillis(kTtlMs / 2);
  Result<std::vector<MarkedDigest>> listed = marker_->List();
  ASSERT_OK(listed);
  std::map<std::string, MarkInfo> by_id;
  for (const MarkedDigest& m : *listed) by_id[m.id] = m.info;
  ASSERT_EQ(by_id.size(), 2u);
  EXPECT_EQ(by_id[TestDigestId(1)].state, MarkState::kStale);
  EXPECT_EQ(by_id[TestDigestId(1)].window, kWindow);
  EXPECT_EQ(by_id[TestDigestId(1)].phase, MarkPhase::kQueued);
  EXPECT_EQ(by_id[TestDigestId(2)].state, MarkState::kInProgress);
  EXPECT_EQ(by_id[TestDigestId(2)].window, later);
  EXPECT_EQ(by_id[TestDigestId(2)].phase, MarkPhase::kRunning);
  EXPECT_EQ(by_id[TestDigestId(2)].owner, Owner("a"));
}

TEST_P(MarkerConformanceTest, RacingClaimsOfManyHoldersHaveExactlyOneWinner) {
  std::vector<MarkerPtr> holders;
  std::vector<Marker*> raw;
  for (int i = 0; i < 6; ++i) {
    holders.push_back(Make(Options("h" + std::to_string(i))));
    ASSERT_NE(holders.back(), nullptr);
    raw.push_back(holders.back().get());
  }
  for (unsigned round = 0; round < 3; ++round) {
    const std::string id = TestDigestId(round);
    if (round == 1) {
      ASSERT_OK(marker_->Mark(id, kWindow));  // queued: any claim may take it
    }
    if (round == 2) {
      ASSERT_OK(marker_->Claim(id, kWindow));  // running, then silent
      clock_->AdvanceMillis(kTtlMs);
    }
    auto [ok, exists] =
        Race(raw, static_cast<int>(raw.size()), [&id](Marker& m) { return m.Claim(id, kWindow); });
    EXPECT_EQ(ok, 1) << "round " << round;
    EXPECT_EQ(exists, static_cast<int>(raw.size()) - 1);
    EXPECT_EQ(InfoOf(id).phase, MarkPhase::kRunning);
  }
}

TEST_P(MarkerConformanceTest, IsReadyAndDescribed) {
  EXPECT_OK(marker_->Ready());
  EXPECT_FALSE(marker_->Describe().empty());
}

}  // namespace vpcflow
