#include "api/message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseTargetTest, SplitsPathAndDecodesQuery) {
  std::string path;
  HeaderList query;
  ASSERT_OK(ParseTarget("/status?start=2019-01-01T00%3A00%3A00Z&stop=x%20y&flag", &path, &query));
  EXPECT_EQ(path, "/status");
  EXPECT_THAT(query, ElementsAre(Pair("start", "2019-01-01T00:00:00Z"), Pair("stop", "x y"),
                                 Pair("flag", "")));
}

TEST(ParseTargetTest, KeepsAPlusAsAPlus) {
  std::string path;
  HeaderList query;
  ASSERT_OK(ParseTarget("/?start=2019-01-01T01:00:00+01:00&stop=a%2Bb", &path, &query));
  EXPECT_EQ(path, "/");
  EXPECT_THAT(query, ElementsAre(Pair("start", "2019-01-01T01:00:00+01:00"), Pair("stop", "a+b")));
}

TEST(ParseTargetTest, DecodesThePath) {
  std::string path;
  HeaderList query;
  ASSERT_OK(ParseTarget("/digests/dig%65st", &path, &query));
  EXPECT_EQ(path, "/digests/digest");
  EXPECT_TRUE(query.empty());
}

TEST(ParseTargetTest, RefusesWhatIsNotOriginForm) {
  std::string path;
  HeaderList query;
  EXPECT_THAT(ParseTarget("http://example.com/", &path, &query),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTarget("/a?b=%zz", &path, &query), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTarget("", &path, &query), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseTargetTest, RefusesARepeatedParameter) {
  std::string path;
  HeaderList query;
  EXPECT_THAT(ParseTarget("/?start=a&stop=b&start=c", &path, &query),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"start\" is given twice")));
  // Decoded names compare: %73 is 's'.
  EXPECT_THAT(ParseTarget("/?start=a&%73tart=a", &path, &query),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ApiRequestTest, QueryReturnsTheFirstValueOrNothing) {
  ApiRequest request;
  request.query = {{"a", "1"}, {"a", "2"}, {"b", ""}};
  EXPECT_EQ(request.Query("a"), "1");
  EXPECT_EQ(request.Query("b"), "");
  EXPECT_EQ(request.Query("c"), std::nullopt);
  request.path_params = {{"topic", "t"}};
  EXPECT_EQ(request.PathParam("topic"), "t");
  EXPECT_EQ(request.PathParam("event"), "");
}

TEST(HttpStatusFromCodeTest, MapsEveryCode) {
  EXPECT_EQ(HttpStatusFromCode(StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusFromCode(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFromCode(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFromCode(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFromCode(StatusCode::kUnimplemented), 501);
  for (StatusCode code :
       {StatusCode::kUnavailable, StatusCode::kDeadlineExceeded, StatusCode::kResourceExhausted,
        StatusCode::kCancelled, StatusCode::kFailedPrecondition}) {
    EXPECT_EQ(HttpStatusFromCode(code), 503) << StatusCodeName(code);
  }
  for (StatusCode code :
       {StatusCode::kPermissionDenied, StatusCode::kDataLoss, StatusCode::kInternal}) {
    EXPECT_EQ(HttpStatusFromCode(code), 500) << StatusCodeName(code);
  }
}

TEST(JsonErrorTest, WritesAMessageObject) {
  ApiResponse r = JsonError(400, "bad \"start\"\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"message":"bad \"start\"\n"})");
  ApiResponse e = ErrorResponse(NotFoundError("gone"));
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.body, R"({"message":"gone"})");
}

TEST(JsonErrorTest, IsValidJsonWhenTheMessageIsNotUtf8) {
  ApiResponse r = JsonError(400, "bad start \"\xff\xc3(\" caf\xc3\xa9");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  EXPECT_EQ(v.at("message").as_string(), "bad start \"\xef\xbf\xbd\xef\xbf\xbd(\" caf\xc3\xa9");
}

}  // namespace
}  // namespace vpcflow
