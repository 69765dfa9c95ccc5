#include "api/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

std::string WriteIn(const ScratchDir& dir, const std::string& name, const std::string& text) {
  WriteFile(dir.Sub(name), text);
  return dir.Sub(name);
}

TEST(ReadTokenFileTest, SkipsBlankLinesAndCommentsAndTrims) {
  ScratchDir dir;
  const std::string path =
      WriteIn(dir, "tokens", "# the bus\n  alpha-1  \n\n\t# old: retired\nbeta_2\r\n");
  EXPECT_THAT(ReadTokenFile(path), IsOkAndHolds(ElementsAre("alpha-1", "beta_2")));
}

TEST(ReadTokenFileTest, RefusesEmptyUnreadableAndMalformedFilesWithoutShowingTokens) {
  ScratchDir dir;
  EXPECT_THAT(ReadTokenFile(WriteIn(dir, "empty", "# nothing\n\n")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("holds no token")));
  EXPECT_THAT(ReadTokenFile(dir.Sub("missing")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadTokenFile(dir.path()), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ReadTokenFile(WriteIn(dir, "spaced", "ok\nsecret part\n")),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("line 2"), Not(HasSubstr("secret")))));
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  Authenticator both_{{"api-token"}, {"worker-token"}};
};

TEST_F(AuthenticatorTest, ApiRoutesTakeOnlyApiTokens) {
  EXPECT_EQ(both_.Check(Access::kApi, "Bearer api-token"), AuthVerdict::kAllowed);
  EXPECT_EQ(both_.Check(Access::kApi, "bearer   api-token "), AuthVerdict::kAllowed);
  EXPECT_EQ(both_.Check(Access::kApi, "Bearer worker-token"), AuthVerdict::kRefused);
  EXPECT_EQ(both_.Check(Access::kApi, "Bearer api-token2"), AuthVerdict::kRefused);
  EXPECT_EQ(both_.Check(Access::kApi, "Bearer api-toke"), AuthVerdict::kRefused);
  EXPECT_EQ(both_.Check(Access::kApi, "Bearer "), AuthVerdict::kMissing);
  EXPECT_EQ(both_.Check(Access::kApi, "Basic YXBpLXRva2Vu"), AuthVerdict::kMissing);
  EXPECT_EQ(both_.Check(Access::kApi, "api-token"), AuthVerdict::kMissing);
  EXPECT_EQ(both_.Check(Access::kApi, ""), AuthVerdict::kMissing);
}

TEST_F(AuthenticatorTest, TheWorkerRouteTakesWorkerAndApiTokens) {
  EXPECT_EQ(both_.Check(Access::kWorker, "Bearer worker-token"), AuthVerdict::kAllowed);
  EXPECT_EQ(both_.Check(Access::kWorker, "Bearer api-token"), AuthVerdict::kAllowed);
  EXPECT_EQ(both_.Check(Access::kWorker, "Bearer other"), AuthVerdict::kRefused);
  EXPECT_EQ(both_.Check(Access::kWorker, ""), AuthVerdict::kMissing);
}

TEST_F(AuthenticatorTest, OpenRoutesNeedNothing) {
  EXPECT_EQ(both_.Check(Access::kOpen, ""), AuthVerdict::kAllowed);
  EXPECT_EQ(both_.Check(Access::kOpen, "Bearer nonsense"), AuthVerdict::kAllowed);
}

TEST(AuthenticatorSetsTest, AnEmptySetProtectsNothing) {
  Authenticator open;
  EXPECT_FALSE(open.api_protected());
  EXPECT_FALSE(open.worker_protected());
  EXPECT_EQ(open.Check(Access::kApi, ""), AuthVerdict::kAllowed);
  EXPECT_EQ(open.Check(Access::kWorker, ""), AuthVerdict::kAllowed);
  // Worker tokens alone: the worker route is protected, the API is open.
  Authenticator workers_only({}, {"w"});
  EXPECT_FALSE(workers_only.api_protected());
  EXPECT_TRUE(workers_only.worker_protected());
  EXPECT_EQ(workers_only.Check(Access::kApi, ""), AuthVerdict::kAllowed);
  EXPECT_EQ(workers_only.Check(Access::kWorker, ""), AuthVerdict::kMissing);
  EXPECT_EQ(workers_only.Check(Access::kWorker, "Bearer w"), AuthVerdict::kAllowed);
  // API tokens alone: they open the worker route too.
  Authenticator api_only({"a"}, {});
  EXPECT_TRUE(api_only.worker_protected());
  EXPECT_EQ(api_only.Check(Access::kWorker, "Bearer a"), AuthVerdict::kAllowed);
  EXPECT_EQ(api_only.Check(Access::kWorker, "Bearer w"), AuthVerdict::kRefused);
}

TEST(UnauthorizedResponseTest, IsJsonWithAChallenge) {
  ApiResponse missing = UnauthorizedResponse(AuthVerdict::kMissing);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.content_type, "application/json");
  EXPECT_THAT(missing.body, HasSubstr("\"message\""));
  EXPECT_THAT(missing.headers,
              ElementsAre(Pair("WWW-Authenticate", R"(Bearer realm="vpcflow-digesterd")")));
  ApiResponse refused = UnauthorizedResponse(AuthVerdict::kRefused);
  EXPECT_EQ(refused.status, 401);
  EXPECT_THAT(refused.headers,
              ElementsAre(Pair("WWW-Authenticate", HasSubstr(R"(error="invalid_token")"))));
}

}  // namespace
}  // namespace vpcflow
