#include "api/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "testing/memory_logger.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

ApiHandler Answer(std::string body) {
  return [body](const ApiRequest& request) {
    ApiResponse r;
    r.body = body;
    for (const auto& [k, v] : request.path_params) r.body += " " + k + "=" + v;
    return r;
  };
}

ApiRequest Request(std::string method, std::string path) {
  ApiRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : router_(&logger_) {
    router_.Add(
        {.method = "POST", .pattern = "/{topic}/{event}", .name = "job", .handler = Answer("job")});
    router_.Add({.method = "GET", .pattern = "/", .name = "root", .handler = Answer("get root")});
    router_.Add({.method = "POST", .pattern = "/", .name = "root", .handler = Answer("post root")});
    router_.Add(
        {.method = "GET", .pattern = "/status", .name = "status", .handler = Answer("status")});
    router_.Add(
        {.method = "GET", .pattern = "/status/now", .name = "now", .handler = Answer("now")});
  }
  MemoryLogger logger_;
  Router router_;
};

TEST_F(RouterTest, MatchesRootByMethod) {
  EXPECT_EQ(router_.Handle(Request("GET", "/")).body, "get root");
  EXPECT_EQ(router_.Handle(Request("POST", "/")).body, "post root");
}

TEST_F(RouterTest, FillsPathParameters) {
  RouteMatch m = router_.Find("POST", "/digests/digest");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "job");
  EXPECT_THAT(m.path_params, ElementsAre(Pair("topic", "digests"), Pair("event", "digest")));
  EXPECT_EQ(router_.Handle(Request("POST", "/a/b")).body, "job topic=a event=b");
}

TEST_F(RouterTest, LiteralRoutesWinOverParameters) {
  // "/status/now" is both a literal GET route and a POST parameter route.
  EXPECT_EQ(router_.Handle(Request("GET", "/status/now")).body, "now");
  EXPECT_EQ(router_.Handle(Request("POST", "/status/now")).body, "job topic=status event=now");
}

TEST_F(RouterTest, UnknownPathIs404Json) {
  for (const char* path : {"/nope", "/status/", "/a/b/c", "//", "/a/"}) {
    ApiResponse r = router_.Handle(Request("GET", path));
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_THAT(r.body, HasSubstr("\"message\""));
  }
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  ApiResponse r = router_.Handle(Request("DELETE", "/"));
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers, ElementsAre(Pair("Allow", "GET, HEAD, POST")));
  EXPECT_EQ(router_.Handle(Request("GET", "/a/b")).status, 405);
  EXPECT_EQ(router_.Find("PUT", "/status").allow, "GET, HEAD");
}

TEST_F(RouterTest, HeadFindsTheGetRoute) {
  RouteMatch head = router_.Find("HEAD", "/status");
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, "GET");
  EXPECT_EQ(router_.Find("HEAD", "/a/b").status, 405);  // POST only
}

TEST_F(RouterTest, AnEscapedExceptionIsALogged500) {
  router_.Add(
      {.method = "GET",
       .pattern = "/boom",
       .name = "boom",
       .handler = [](const ApiRequest&) -> ApiResponse { throw std::runtime_error("kaput"); }});
  router_.Add({.method = "GET",
               .pattern = "/int",
               .name = "int",
               .handler = [](const ApiRequest&) -> ApiResponse { throw 42; }});
  ApiResponse r = router_.Handle(Request("GET", "/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"message":"internal error"})");
  EXPECT_EQ(router_.Handle(Request("GET", "/int")).status, 500);
  std::vector<LoggedEvent> events = logger_.Events("unknown-failure");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].Field("route"), "boom");
  EXPECT_EQ(events[0].Field("reason"), "kaput");
  EXPECT_EQ(events[0].level, LogLevel::kError);
}

}  // namespace
}  // namespace vpcflow
