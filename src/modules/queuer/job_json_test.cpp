#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

TEST(JobJsonTest, WritesIdStartAndStop) {
  Window window{.start = 1546300800, .stop = 1546304400};
  Job job{.id = DigestId(window), .window = window};
  EXPECT_EQ(JobToJson(job),
            R"({"id":"9740a140-ba85-5600-8b93-7b46eec77617","start":"2019-01-01T00:00:00Z",)"
            R"("stop":"2019-01-01T01:00:00Z"})");
  EXPECT_THAT(JobFromJson(JobToJson(job), kDefaultMaxWindowSeconds), IsOkAndHolds(job));
}

TEST(JobJsonTest, IdIsOptionalAndOffsetsAreNormalised) {
  Result<Job> job =
      JobFromJson(R"({"start":"2019-01-01T01:00:30+01:00","stop":"2019-01-01T01:00:00Z","x":1})",
                  kDefaultMaxWindowSeconds);
  ASSERT_OK(job);
  EXPECT_EQ(job->id, "9740a140-ba85-5600-8b93-7b46eec77617");
  EXPECT_EQ(job->window.start, 1546300800);
}

TEST(JobJsonTest, RejectsBadJobsWithAMessage) {
  auto parse = [](std::string_view json) { return JobFromJson(json, kDefaultMaxWindowSeconds); };
  EXPECT_THAT(parse(""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("JSON")));
  EXPECT_THAT(parse("{"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("JSON")));
  EXPECT_THAT(parse("[1]"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("object")));
  EXPECT_THAT(parse(R"({"start":"2019-01-01T00:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("stop")));
  EXPECT_THAT(parse(R"({"start":1,"stop":2})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("start")));
  EXPECT_THAT(parse(R"({"start":"yesterday","stop":"2019-01-01T00:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(parse(R"({"start":"2019-01-01T01:00:00Z","stop":"2019-01-01T00:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(parse(R"({"start":"2019-01-01T00:00:00Z","stop":"2019-03-01T00:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(parse(R"({"id":"00000000-0000-5000-8000-000000000000",)"
                    R"("start":"2019-01-01T00:00:00Z","stop":"2019-01-01T01:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("id")));
  EXPECT_THAT(parse(R"({"id":7,"start":"2019-01-01T00:00:00Z","stop":"2019-01-01T01:00:00Z"})"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("id")));
  EXPECT_THAT(parse("{\"start\":\"\xff\",\"stop\":\"x\"}"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(JobJsonTest, RejectsARepeatedKey) {
  // Read as if sent once, the last "start" would silently win.
  EXPECT_THAT(JobFromJson(R"({"start":"2019-01-01T00:00:00Z","start":"2019-01-01T00:30:00Z",)"
                          R"("stop":"2019-01-01T01:00:00Z"})",
                          kDefaultMaxWindowSeconds),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(R"(duplicate key "start")")));
}

}  // namespace
}  // namespace vpcflow
