#include "nats/nats_connection.hpp"

#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "testing/test_http_server.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(NatsOptionsFromUrlsTest, SplitsTrimsAndKeepsPorts) {
  Result<NatsOptions> o = NatsOptionsFromUrls(" nats://a:4222, ,nats://b ,tls://c:1 ");
  ASSERT_THAT(o, IsOk());
  EXPECT_THAT(o->urls, ElementsAre("nats://a:4222", "nats://b", "tls://c:1"));
  EXPECT_EQ(o->user, "");
  EXPECT_EQ(o->token, "");
  EXPECT_EQ(DescribeNatsUrls(*o), "nats://a:4222,nats://b,tls://c:1");
}

TEST(NatsOptionsFromUrlsTest, TakesUserAndPasswordOutOfTheUrls) {
  Result<NatsOptions> o = NatsOptionsFromUrls("nats://me:p%40ss@a:4222,nats://me:p%40ss@b:4222");
  ASSERT_THAT(o, IsOk());
  EXPECT_THAT(o->urls, ElementsAre("nats://a:4222", "nats://b:4222"));
  EXPECT_EQ(o->user, "me");
  EXPECT_EQ(o->password, "p@ss");
  EXPECT_THAT(DescribeNatsUrls(*o), Not(HasSubstr("p@ss")));
}

TEST(NatsOptionsFromUrlsTest, TakesATokenFromTheUrlOrTheEnvironment) {
  Result<NatsOptions> o = NatsOptionsFromUrls("nats://s3cr3t@a:4222");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->token, "s3cr3t");
  EXPECT_EQ(o->user, "");
  o = NatsOptionsFromUrls("nats://a:4222", "/etc/nats/user.creds", "t0k");
  ASSERT_THAT(o, IsOk());
  EXPECT_EQ(o->token, "t0k");
  EXPECT_EQ(o->creds_file, "/etc/nats/user.creds");
}

TEST(NatsOptionsFromUrlsTest, RefusesBadUrlsWithoutShowingSecrets) {
  EXPECT_THAT(NatsOptionsFromUrls(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NatsOptionsFromUrls(" , "), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NatsOptionsFromUrls("http://a:4222"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NatsOptionsFromUrls("nats://a:4222/path"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(NatsOptionsFromUrls("a:4222"), StatusIs(StatusCode::kInvalidArgument));
  Result<NatsOptions> o = NatsOptionsFromUrls("nats://u:hunter2@a:1,nats://u:other@b:2");
  EXPECT_THAT(o, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  EXPECT_THAT(o, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("other"))));
  EXPECT_THAT(NatsOptionsFromUrls("nats://s3cr3tA@a:1", "", "s3cr3tB"),
              StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("s3cr3t"))));
}

TEST(NatsConnectionTest, UnreachableServerIsUnavailableAndNamesItWithoutSecrets) {
  const int port = RefusedLocalPort();
  ASSERT_NE(port, 0);
  Result<NatsOptions> o =
      NatsOptionsFromUrls("nats://user:hunter2@127.0.0.1:" + std::to_string(port));
  ASSERT_THAT(o, IsOk());
  o->connect_timeout_ms = 500;
  auto c = NatsConnection::Connect(*o);
  EXPECT_THAT(c,
              StatusIs(StatusCode::kUnavailable, HasSubstr("127.0.0.1:" + std::to_string(port))));
  EXPECT_THAT(c, StatusIs(StatusCode::kUnavailable, Not(HasSubstr("hunter2"))));
}

}  // namespace
}  // namespace vpcflow
