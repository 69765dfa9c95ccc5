#pragma once
/// The Marker conformance suite. Any implementation, a user's too, runs it with one line in ONE
/// test file of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(File, MarkerConformanceTest,
///       ::testing::Values(MarkerFactory(&NewFileMarker)));
///
/// The factory gets a fresh empty scratch directory per test, the TTL and a FakeClock that the
/// suite moves to make markers stale; the marker must judge time by that clock only.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <latch>
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
  std::function<Result<MarkerPtr>(const std::string& scratch_dir, int64_t ttl_ms, ClockPtr clock)>
      make;
  friend void PrintTo(const MarkerFactory&, std::ostream* os) { *os << "MarkerFactory"; }
};

class MarkerConformanceTest : public ::testing::TestWithParam<MarkerFactory> {
 protected:
  static constexpr int64_t kTtlMs = 60000;

  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    marker_ = Make();
    ASSERT_NE(marker_, nullptr);
  }

  MarkerPtr Make() {
    Result<MarkerPtr> marker = GetParam().make(scratch_.path(), kTtlMs, clock_);
    EXPECT_THAT(marker, IsOk());
    return marker.ok() ? std::move(marker).value() : nullptr;
  }

  MarkState StateOf(const std::string& id) {
    Result<MarkInfo> info = marker_->State(id);
    EXPECT_THAT(info, IsOk());
    return info.ok() ? info->state : MarkState::kAbsent;
  }

  // Runs Mark(id) on `n` threads released together (against `markers[i % size]`) and returns
  // {OK count, AlreadyExists count}; any other result fails the test.
  std::pair<int, int> RaceMark(const std::vector<Marker*>& markers, const std::string& id, int n) {
    std::latch start(n);
    std::atomic<int> ok{0};
    std::atomic<int> exists{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        Status status = markers[t % markers.size()]->Mark(id);
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
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis());
  EXPECT_EQ(StateOf(TestDigestId(2)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, SecondMarkIsAlreadyExistsWhileLive) {
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  EXPECT_THAT(marker_->Mark(TestDigestId(1)), StatusIs(StatusCode::kAlreadyExists));
  clock_->AdvanceMillis(kTtlMs - 1);
  EXPECT_THAT(marker_->Mark(TestDigestId(1)), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
}

TEST_P(MarkerConformanceTest, MarkerGoesStaleAfterTheTtlAndIsReplaced) {
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  clock_->AdvanceMillis(kTtlMs);
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kStale);
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  Result<MarkInfo> info = marker_->State(TestDigestId(1));
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis());
}

TEST_P(MarkerConformanceTest, RefreshKeepsAMarkerLive) {
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  clock_->AdvanceMillis(kTtlMs - 1);
  ASSERT_OK(marker_->Refresh(TestDigestId(1)));
  clock_->AdvanceMillis(kTtlMs - 1);
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
  EXPECT_THAT(marker_->Mark(TestDigestId(1)), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(MarkerConformanceTest, RefreshRevivesAStaleMarker) {
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  clock_->AdvanceMillis(2 * kTtlMs);
  ASSERT_OK(marker_->Refresh(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
}

TEST_P(MarkerConformanceTest, RefreshWithoutMarkerIsNotFound) {
  EXPECT_THAT(marker_->Refresh(TestDigestId(1)), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_THAT(marker_->Refresh(TestDigestId(1)), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, UnmarkRemovesAndIsIdempotent) {
  EXPECT_OK(marker_->Unmark(TestDigestId(1)));
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
  EXPECT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_OK(marker_->Mark(TestDigestId(1)));
}

TEST_P(MarkerConformanceTest, FailReplacesTheMarkerWithTheReason) {
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
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
  ASSERT_OK(marker_->Mark(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kInProgress);
  ASSERT_OK(marker_->Unmark(TestDigestId(1)));
  EXPECT_EQ(StateOf(TestDigestId(1)), MarkState::kAbsent);
}

TEST_P(MarkerConformanceTest, RejectsIdsThatAreNotDigestIds) {
  for (std::string bad : {"", "../x", "a/b_in_progress", "9740a140-ba85-5600-8b93-7b46eec7761/"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(marker_->Mark(bad), StatusIs(StatusCode::kInvalidArgument));
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
    ASSERT_OK(marker_->Mark(TestDigestId(round)));
    clock_->AdvanceMillis(kTtlMs + 1);
    auto [ok, exists] = RaceMark({marker_.get()}, TestDigestId(round), 20);
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(exists, 19);
    EXPECT_EQ(StateOf(TestDigestId(round)), MarkState::kInProgress);
  }
}

TEST_P(MarkerConformanceTest, IsReadyAndDescribed) {
  EXPECT_OK(marker_->Ready());
  EXPECT_FALSE(marker_->Describe().empty());
}

}  // namespace vpcflow
