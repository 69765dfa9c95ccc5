#include "common/json_parse.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

TEST(ParseJsonStrictTest, ParsesADocument) {
  Result<boost::json::value> v =
      ParseJsonStrict(R"( {"a":[1,-2,3.5,true,null,"x\u00e9"],"b":{"a":1},"":{}} )");
  ASSERT_OK(v.status());
  EXPECT_EQ(boost::json::serialize(*v),
            "{\"a\":[1,-2,3.5E0,true,null,\"x\xc3\xa9\"],\"b\":{\"a\":1},\"\":{}}");
}

TEST(ParseJsonStrictTest, RefusesARepeatedKeyAtAnyDepth) {
  EXPECT_THAT(ParseJsonStrict(R"({"start":"a","start":"b"})").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(R"(duplicate key "start")")));
  EXPECT_THAT(ParseJsonStrict(R"({"x":[{"k":1,"k":2}]})").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(R"(duplicate key "k")")));
  EXPECT_THAT(ParseJsonStrict(R"({"":1,"":2})").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(R"(duplicate key "")")));
  // The same key in sibling objects is no repetition.
  EXPECT_OK(ParseJsonStrict(R"([{"k":1},{"k":2}])").status());
}

TEST(ParseJsonStrictTest, RefusesWhatIsNotOneJsonValue) {
  for (const char* bad : {"", "{", "{\"a\":1} x", "{\"a\":\"\xff\"}", "[1,]", "nul"}) {
    EXPECT_THAT(ParseJsonStrict(bad).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("not valid JSON")))
        << bad;
  }
}

TEST(ParseJsonStrictTest, RefusesDeepNesting) {
  EXPECT_THAT(ParseJsonStrict(std::string(1000, '[') + std::string(1000, ']')).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vpcflow
