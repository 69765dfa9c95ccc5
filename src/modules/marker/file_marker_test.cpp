#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "modules/text_format.hpp"
#include "testing/marker_conformance.hpp"
#include "testing/memory_marker.hpp"
#include "vpcflow/marker.hpp"

namespace vpcflow {
namespace {

INSTANTIATE_TEST_SUITE_P(File, MarkerConformanceTest,
                         ::testing::Values(MarkerFactory(&NewFileMarker)));
INSTANTIATE_TEST_SUITE_P(
    Memory, MarkerConformanceTest,
    ::testing::Values(MarkerFactory([](const std::string&, int64_t ttl_ms, ClockPtr clock) {
      return Result<MarkerPtr>(std::make_unique<MemoryMarker>(ttl_ms, std::move(clock)));
    })));

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& text, int64_t mtime_ms) {
  std::ofstream(path, std::ios::binary) << text;
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
    Result<MarkerPtr> marker = NewFileMarker(scratch_.Sub("progress"), kTtlMs, clock_);
    ASSERT_OK(marker);
    marker_ = std::move(marker).value();
  }
  std::string Path(const std::string& name) const { return scratch_.Sub("progress/" + name); }

  static constexpr int64_t kTtlMs = 600000;
  ScratchDir scratch_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(1546300800123);
  MarkerPtr marker_;
};

TEST_F(FileMarkerTest, WritesTheMarkerOfTheOlderServiceWithItsTime) {
  std::string id = "9740a140-ba85-5600-8b93-7b46eec77617";
  ASSERT_OK(marker_->Mark(id));
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_in_progress"});
  EXPECT_EQ(ReadFile(Path(id + "_in_progress")), "2019-01-01T00:00:00.123Z");
  ASSERT_OK(marker_->Fail(id, R"({"message":"x"})"));
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_failed"});
  EXPECT_EQ(ReadFile(Path(id + "_failed")), R"({"message":"x"})");
  ASSERT_OK(marker_->Mark(id));
  ASSERT_OK(marker_->Unmark(id));
  EXPECT_TRUE(VisibleNames(scratch_.Sub("progress")).empty());
  EXPECT_EQ(marker_->Describe(), "dir:" + scratch_.Sub("progress"));
}

TEST_F(FileMarkerTest, ReadsMarkersWrittenWithSecondsOnly) {
  std::string id = TestDigestId(1);
  WriteFile(Path(id + "_in_progress"), "2019-01-01T00:00:00Z\n", 0);
  Result<MarkInfo> info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kInProgress);
  EXPECT_EQ(info->written_unix_ms, 1546300800000);
  clock_->AdvanceMillis(kTtlMs);
  info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kStale);
}

TEST_F(FileMarkerTest, FallsBackToTheModificationTimeForAnUnparsableBody) {
  std::string id = TestDigestId(2);
  WriteFile(Path(id + "_in_progress"), "", clock_->NowUnixMillis() - 1000);
  EXPECT_THAT(marker_->Mark(id), StatusIs(StatusCode::kAlreadyExists));
  WriteFile(Path(id + "_in_progress"), "garbage", clock_->NowUnixMillis() - kTtlMs - 1);
  Result<MarkInfo> info = marker_->State(id);
  ASSERT_OK(info);
  EXPECT_EQ(info->state, MarkState::kStale);
  EXPECT_EQ(info->written_unix_ms, clock_->NowUnixMillis() - kTtlMs - 1);
  ASSERT_OK(marker_->Mark(id));
  EXPECT_EQ(ReadFile(Path(id + "_in_progress")), FormatRfc3339Millis(clock_->NowUnixMillis()));
}

TEST_F(FileMarkerTest, TwoStoresOnOneDirectoryRaceLikeTwoProcesses) {
  // Each FileMarker opens its own lock descriptions, as another process would.
  Result<MarkerPtr> other = NewFileMarker(scratch_.Sub("progress"), kTtlMs, clock_);
  ASSERT_OK(other);
  std::string id = TestDigestId(3);
  std::latch start(20);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  ASSERT_OK(marker_->Mark(id));
  clock_->AdvanceMillis(kTtlMs);
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      Status status = (t % 2 == 0 ? marker_ : *other)->Mark(id);
      if (status.ok()) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(VisibleNames(scratch_.Sub("progress")), std::set<std::string>{id + "_in_progress"});
}

TEST_F(FileMarkerTest, RejectsANonPositiveTtl) {
  EXPECT_THAT(NewFileMarker(scratch_.Sub("x"), 0, clock_), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NewFileMarker("", 10, clock_), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(FileMarkerTest, ReadyLeavesOnlyTheLockFile) {
  ASSERT_OK(marker_->Ready());
  EXPECT_TRUE(VisibleNames(scratch_.Sub("progress")).empty());
}

TEST(MarkStateNameTest, NamesEveryState) {
  EXPECT_EQ(MarkStateName(MarkState::kAbsent), "absent");
  EXPECT_EQ(MarkStateName(MarkState::kInProgress), "in_progress");
  EXPECT_EQ(MarkStateName(MarkState::kStale), "stale");
  EXPECT_EQ(MarkStateName(MarkState::kFailed), "failed");
}

}  // namespace
}  // namespace vpcflow
