#include "vpcflow/status.hpp"

#include <gtest/gtest.h>

#include <string>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s, OkStatus());
}

TEST(StatusTest, EveryCodeHasItsCanonicalName) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(StatusCode::kNotFound), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(StatusCode::kAlreadyExists), "ALREADY_EXISTS");
  EXPECT_EQ(StatusCodeName(StatusCode::kPermissionDenied), "PERMISSION_DENIED");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(StatusCode::kDataLoss), "DATA_LOSS");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(StatusCodeName(StatusCode::kCancelled), "CANCELLED");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnimplemented), "UNIMPLEMENTED");
  EXPECT_EQ(StatusCodeName(StatusCode::kInternal), "INTERNAL");
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
  };
  const Case cases[] = {
      {InvalidArgumentError("m"), StatusCode::kInvalidArgument},
      {NotFoundError("m"), StatusCode::kNotFound},
      {AlreadyExistsError("m"), StatusCode::kAlreadyExists},
      {PermissionDeniedError("m"), StatusCode::kPermissionDenied},
      {FailedPreconditionError("m"), StatusCode::kFailedPrecondition},
      {DataLossError("m"), StatusCode::kDataLoss},
      {UnavailableError("m"), StatusCode::kUnavailable},
      {DeadlineExceededError("m"), StatusCode::kDeadlineExceeded},
      {CancelledError("m"), StatusCode::kCancelled},
      {ResourceExhaustedError("m"), StatusCode::kResourceExhausted},
      {UnimplementedError("m"), StatusCode::kUnimplemented},
      {InternalError("m"), StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
  }
}

TEST(StatusTest, PredicatesMatchTheirCodeOnly) {
  EXPECT_TRUE(IsNotFound(NotFoundError("x")));
  EXPECT_FALSE(IsNotFound(DataLossError("x")));
  EXPECT_TRUE(IsDataLoss(DataLossError("x")));
  EXPECT_TRUE(IsInvalidArgument(InvalidArgumentError("x")));
  EXPECT_TRUE(IsAlreadyExists(AlreadyExistsError("x")));
  EXPECT_TRUE(IsUnavailable(UnavailableError("x")));
  EXPECT_TRUE(IsUnimplemented(UnimplementedError("x")));
  EXPECT_FALSE(IsUnimplemented(OkStatus()));
}

TEST(StatusTest, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(NotFoundError("no such key: 'a'").ToString(), "NOT_FOUND: no such key: 'a'");
}

TEST(StatusTest, WithContextPrefixesTheMessageAndKeepsTheCode) {
  Status s = DataLossError("bad CRC").WithContext("object a.gz");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "object a.gz: bad CRC");
  EXPECT_EQ(s.WithContext("job").message(), "job: object a.gz: bad CRC");
}

TEST(StatusTest, WithContextOnOkStaysOk) { EXPECT_EQ(OkStatus().WithContext("x"), OkStatus()); }

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(NotFoundError("a"), NotFoundError("a"));
  EXPECT_NE(NotFoundError("a"), NotFoundError("b"));
  EXPECT_NE(NotFoundError("a"), InternalError("a"));
}

TEST(ResultTest, HoldsAValue) {
  Result<std::string> r = std::string("v");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "v");
  EXPECT_EQ(r->size(), 1u);
  EXPECT_TRUE(r.status().ok());
  EXPECT_THAT(r, IsOkAndHolds("v"));
}

TEST(ResultTest, HoldsAnError) {
  Result<int> r = NotFoundError("gone");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound, HasSubstr("gone")));
}

TEST(ResultTest, BuiltFromAnOkStatusIsAnInternalError) {
  Result<int> r = OkStatus();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("OK status"));
}

TEST(ResultTest, MovesTheValueOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}

Status Check(int x) { return x < 0 ? InvalidArgumentError("negative") : OkStatus(); }

Result<int> Quarter(int x) {
  VPCFLOW_RETURN_IF_ERROR(Check(x));
  VPCFLOW_ASSIGN_OR_RETURN(int h, Half(x));
  VPCFLOW_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, "odd"));
  EXPECT_THAT(Quarter(-4), StatusIs(StatusCode::kInvalidArgument, "negative"));
}

}  // namespace
}  // namespace vpcflow
