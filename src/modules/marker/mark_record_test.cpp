#include "modules/marker/mark_record.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "common/process_identity.hpp"

namespace vpcflow {
namespace {

constexpr Window kWindow{1546300800, 1546304400};
constexpr int64_t kNow = 1546300800123;

MarkOwner Elsewhere() {
  return {.host = "another-host", .pid = 7, .start_ticks = 9, .instance = "remote"};
}

TEST(MarkRecordTest, TheJsonBodyRoundTrips) {
  const MarkInfo mark = NewMark(kWindow, MarkPhase::kRunning, Elsewhere(), kNow, 5000);
  std::optional<MarkInfo> back = DecodeMarkBody(EncodeMarkBody(mark));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->written_unix_ms, kNow);
  EXPECT_EQ(back->heartbeat_ms, 5000);
  EXPECT_EQ(back->phase, MarkPhase::kRunning);
  EXPECT_EQ(back->window, kWindow);
  EXPECT_EQ(back->owner, Elsewhere());
}

TEST(MarkRecordTest, ReadsTheOlderServicesBareTime) {
  std::optional<MarkInfo> old = DecodeMarkBody("2019-01-01T00:00:00Z\n");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->written_unix_ms, 1546300800000);
  EXPECT_EQ(old->heartbeat_ms, 0);
  EXPECT_EQ(old->window, std::nullopt);
  EXPECT_EQ(old->owner, std::nullopt);
}

TEST(MarkRecordTest, RefusesBodiesWithoutATimeAndDropsBadFields) {
  for (const char* bad : {"", "garbage", "{", "{}", R"({"heartbeat":5})", "[1]"}) {
    EXPECT_EQ(DecodeMarkBody(bad), std::nullopt) << bad;
  }
  std::optional<MarkInfo> odd = DecodeMarkBody(
      R"({"heartbeat":"2019-01-01T00:00:00Z","heartbeat_ms":99999999999999,"start":"x",)"
      R"("stop":"2019-01-01T01:00:00Z","phase":7,"owner":"me"})");
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->heartbeat_ms, kMaxHeartbeatMs);
  EXPECT_EQ(odd->window, std::nullopt);
  EXPECT_EQ(odd->owner, std::nullopt);
  EXPECT_EQ(odd->phase, MarkPhase::kQueued);
}

TEST(MarkRecordTest, JudgesByHeartbeatsTtlAndTheHoldersLife) {
  MarkInfo mark = NewMark(kWindow, MarkPhase::kQueued, Elsewhere(), kNow, 1000);
  JudgeMark(&mark, kNow + 3999, 600000);
  EXPECT_EQ(mark.state, MarkState::kInProgress);
  JudgeMark(&mark, kNow + 4000, 600000);
  EXPECT_EQ(mark.state, MarkState::kStale);
  JudgeMark(&mark, kNow + 2000, 1500);  // the TTL bounds the heartbeats
  EXPECT_EQ(mark.state, MarkState::kStale);
  mark.heartbeat_ms = 0;  // the older service's: the TTL alone
  JudgeMark(&mark, kNow + 599999, 600000);
  EXPECT_EQ(mark.state, MarkState::kInProgress);
  JudgeMark(&mark, kNow + 600000, 600000);
  EXPECT_EQ(mark.state, MarkState::kStale);

  MarkOwner gone = ThisMarkOwner();
  gone.start_ticks += 1;
  MarkInfo orphan = NewMark(kWindow, MarkPhase::kRunning, gone, kNow, 1000);
  JudgeMark(&orphan, kNow, 600000);
  EXPECT_EQ(orphan.state, MarkState::kStale);
  MarkInfo mine = NewMark(kWindow, MarkPhase::kRunning, ThisMarkOwner(), kNow, 1000);
  JudgeMark(&mine, kNow, 600000);
  EXPECT_EQ(mine.state, MarkState::kInProgress);
}

TEST(MarkRecordTest, AHugeTtlDoesNotOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  MarkInfo old = *DecodeMarkBody("2019-01-01T00:00:00Z");
  JudgeMark(&old, kNow + 10LL * 365 * 86400 * 1000, kMax);
  EXPECT_EQ(old.state, MarkState::kInProgress);  // before the fix: wrapped to negative, stale
  MarkInfo mark = NewMark(kWindow, MarkPhase::kQueued, Elsewhere(), kNow, kMaxHeartbeatMs);
  JudgeMark(&mark, kNow + 1000, kMax);
  EXPECT_EQ(mark.state, MarkState::kInProgress);
}

TEST(MarkRecordTest, ClaimsAndHolders) {
  MarkInfo theirs = NewMark(kWindow, MarkPhase::kRunning, Elsewhere(), kNow, 1000);
  JudgeMark(&theirs, kNow, 600000);
  EXPECT_FALSE(HeldBy(theirs, ThisMarkOwner()));
  EXPECT_FALSE(MayClaim(theirs, ThisMarkOwner()));
  EXPECT_TRUE(MayClaim(theirs, Elsewhere()));
  theirs.phase = MarkPhase::kQueued;
  EXPECT_TRUE(MayClaim(theirs, ThisMarkOwner()));
  theirs.phase = MarkPhase::kRunning;
  theirs.state = MarkState::kStale;
  EXPECT_TRUE(MayClaim(theirs, ThisMarkOwner()));
}

}  // namespace
}  // namespace vpcflow
