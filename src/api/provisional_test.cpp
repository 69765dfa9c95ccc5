#include "api/provisional.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "testing/memory_storage.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int64_t k2019 = 1546300800;  // 2019-01-01T00:00:00Z
constexpr Window kWindow{k2019, k2019 + 3600};
const std::string kId = DigestId(kWindow);

TEST(CheckWindowStartedTest, AcceptsAWindowThatStartedEvenIfItEndsLater) {
  EXPECT_THAT(CheckWindowStarted(kWindow, k2019), IsOk());
  EXPECT_THAT(CheckWindowStarted(kWindow, k2019 + 1800), IsOk());
  EXPECT_THAT(CheckWindowStarted(kWindow, k2019 + 86400), IsOk());
}

TEST(CheckWindowStartedTest, RefusesAWindowThatStartsInTheFuture) {
  const Window w{k2019 + 60, k2019 + 3600};
  EXPECT_THAT(CheckWindowStarted(w, k2019),
              StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("starts in the future"),
                                                           HasSubstr("2019-01-01T00:01:00Z"))));
}

TEST(WindowSettledAtTest, IsTheStopPlusTheSettleTime) {
  EXPECT_EQ(WindowSettledAt(kWindow, 1200), k2019 + 3600 + 1200);
  EXPECT_EQ(WindowSettledAt(kWindow, -5), k2019 + 3600);
  EXPECT_TRUE(IsProvisionalAt(kWindow, k2019 + 3600 + 1199, 1200));
  EXPECT_FALSE(IsProvisionalAt(kWindow, k2019 + 3600 + 1200, 1200));
}

TEST(ManifestIsProvisionalTest, ReadsTheFlagAndTakesAnythingElseForFinal) {
  EXPECT_TRUE(ManifestIsProvisional(R"({"id":"x","provisional":true})"));
  EXPECT_FALSE(ManifestIsProvisional(R"({"id":"x","provisional":false})"));
  EXPECT_FALSE(ManifestIsProvisional(R"({"id":"x"})"));  // an older service's
  EXPECT_FALSE(ManifestIsProvisional(R"({"provisional":"true"})"));
  EXPECT_FALSE(ManifestIsProvisional("not json"));
  EXPECT_FALSE(ManifestIsProvisional(""));
}

void Store(MemoryStorage& storage, const std::string& manifest) {
  Result<StorageUploadPtr> upload = storage.Begin(kId);
  ASSERT_THAT(upload, IsOk());
  ASSERT_THAT((*upload)->body().Append("gz"), IsOk());
  ASSERT_THAT((*upload)->Commit(manifest), IsOk());
}

TEST(StandingOfTest, TellsAbsentFinalProvisionalAndReplaceable) {
  MemoryStorage storage;
  const int64_t settled = k2019 + 3600 + 1200;
  EXPECT_THAT(StandingOf(storage, kId, kWindow, settled, 1200),
              IsOkAndHolds(DigestStanding::kAbsent));
  Store(storage, R"({"provisional":true})");
  EXPECT_THAT(StandingOf(storage, kId, kWindow, settled - 1, 1200),
              IsOkAndHolds(DigestStanding::kProvisional));
  EXPECT_THAT(StandingOf(storage, kId, kWindow, settled, 1200),
              IsOkAndHolds(DigestStanding::kReplaceable));
  Store(storage, R"({"provisional":false})");
  EXPECT_THAT(StandingOf(storage, kId, kWindow, settled, 1200),
              IsOkAndHolds(DigestStanding::kFinal));
}

}  // namespace
}  // namespace vpcflow
