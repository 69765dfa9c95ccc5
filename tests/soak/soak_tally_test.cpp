#include "soak/soak_tally.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vpcflow::soak {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

Answer Got(Route route, int status) { return {.route = route, .status = status}; }

TEST(SoakTallyTest, PostAllowsAcceptedConflictAndBusyOnly) {
  for (int status : {202, 409, 503}) EXPECT_THAT(Violation(Got(Route::kPost, status)), IsEmpty());
  for (int status : {200, 400, 401, 404, 500}) {
    EXPECT_THAT(Violation(Got(Route::kPost, status)), HasSubstr("not allowed")) << status;
  }
}

TEST(SoakTallyTest, ReadsAllow503OnlyDuringTheS3Outage) {
  for (int status : {200, 204, 404}) {
    EXPECT_THAT(Violation(Got(Route::kGetDigest, status)), IsEmpty());
  }
  EXPECT_THAT(Violation(Got(Route::kStatus, 200)), IsEmpty());
  for (Route route : {Route::kGetDigest, Route::kStatus}) {
    Answer busy = Got(route, 503);
    EXPECT_THAT(Violation(busy), HasSubstr("503 is not allowed"));
    busy.s3_outage = true;
    EXPECT_THAT(Violation(busy), IsEmpty());
    Answer error = Got(route, 500);
    error.s3_outage = true;
    EXPECT_THAT(Violation(error), HasSubstr("during the S3 outage"));
  }
  EXPECT_THAT(Violation(Got(Route::kStatus, 404)), HasSubstr("not allowed"));
  EXPECT_THAT(Violation(Got(Route::kGetDigest, 401)), HasSubstr("not allowed"));
}

TEST(SoakTallyTest, NoAnswerIsAllowedOnlyWhenTheKillCutTheRequest) {
  Answer none = Got(Route::kHealthz, 0);
  EXPECT_EQ(Violation(none), "GET /healthz: no answer");
  none.timed_out = true;
  EXPECT_EQ(Violation(none), "GET /healthz: no answer within the time limit");
  none.s3_outage = true;  // an outage of S3 is no excuse for a hung request
  EXPECT_THAT(Violation(none), HasSubstr("no answer"));
  none.cut_by_kill = true;
  EXPECT_THAT(Violation(none), IsEmpty());
}

TEST(SoakTallyTest, ProbesAnswerAsTheirContractSays) {
  EXPECT_THAT(Violation(Got(Route::kReadyz, 503)), IsEmpty());
  EXPECT_THAT(Violation(Got(Route::kHealthz, 503)), HasSubstr("not allowed"));
  EXPECT_THAT(Violation(Got(Route::kMetrics, 401)), HasSubstr("not allowed"));
}

TEST(SoakTallyTest, PercentileIsTheNearestRank) {
  std::vector<double> none;
  EXPECT_EQ(Percentile(none, 0.5), 0);
  std::vector<double> v = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
  EXPECT_EQ(Percentile(v, 0.5), 5);
  EXPECT_EQ(Percentile(v, 0.9), 9);
  EXPECT_EQ(Percentile(v, 0.99), 10);
  EXPECT_EQ(Percentile(v, 1.0), 10);
  EXPECT_EQ(Percentile(v, 0.0), 1);
}

TEST(SoakTallyTest, TableCountsByRouteAndStatusAndKeepsViolationExamples) {
  Tally tally;
  EXPECT_THAT(tally.Record(Got(Route::kPost, 202), 3.0, "a"), IsEmpty());
  EXPECT_THAT(tally.Record(Got(Route::kPost, 202), 5.0, "b"), IsEmpty());
  EXPECT_THAT(tally.Record(Got(Route::kPost, 500), 7.0, "POST /?x -> 500"),
              ::testing::Not(IsEmpty()));
  tally.AddViolation("a marker was left");
  EXPECT_EQ(tally.requests(), 3);
  EXPECT_EQ(tally.violations(), 2);
  EXPECT_EQ(tally.Count(Route::kPost, 202), 2);
  EXPECT_EQ(tally.Count(Route::kPost, 500), 1);
  EXPECT_EQ(tally.Count(Route::kStatus, 200), 0);
  const std::string table = tally.Table();
  EXPECT_THAT(table, HasSubstr("POST /         202                 2"));
  EXPECT_THAT(table, HasSubstr("POST /?x -> 500"));
  EXPECT_THAT(table, HasSubstr("violation: a marker was left"));
  EXPECT_THAT(table, HasSubstr("requests 3, violations 2"));
}

}  // namespace
}  // namespace vpcflow::soak
