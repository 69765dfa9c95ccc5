#include "vpcflow/job_state.hpp"

#include <gtest/gtest.h>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

TEST(JobStateJsonTest, RoundTripsEveryField) {
  JobState s;
  s.phase = JobPhase::kRunning;
  s.progress = {.objects_done = 3, .objects_total = 9, .bytes_done = 300, .bytes_total = 900};
  s.shards_total = 4;
  s.shards_done = 1;
  s.holders = {{"shard/a", "h1/12"}, {"merge", "h2/7"}};
  s.failure = "shard a failed: \"DATA_LOSS\" é";
  s.updated_unix_ms = 1700000000123;
  Result<JobState> back = JobStateFromJson(JobStateToJson(s));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(*back, s);
  EXPECT_THAT(JobStateFromJson(JobStateToJson(JobState{})), IsOkAndHolds(JobState{}));
}

TEST(JobStateJsonTest, RefusesWhatItDidNotWrite) {
  for (std::string_view bad :
       {"", "[]", "{}", R"({"phase":"done"})", "not json",
        R"({"phase":"queued","progress":{},"shards_total":0,"shards_done":0,"holders":{},)"
        R"("failure":"","updated":0})",
        R"({"phase":"queued","progress":{"objects_done":0,"objects_total":0,"bytes_done":0,)"
        R"("bytes_total":0},"shards_total":-1,"shards_done":0,"holders":{},"failure":"",)"
        R"("updated":0})"}) {
    EXPECT_THAT(JobStateFromJson(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ThisWorkerNameTest, NamesHostAndPid) {
  const std::string name = ThisWorkerName();
  EXPECT_NE(name.find('/'), std::string::npos);
  EXPECT_EQ(name.substr(name.rfind('/') + 1), std::to_string(::getpid()));
}

}  // namespace
}  // namespace vpcflow
