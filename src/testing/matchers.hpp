#pragma once
/// GoogleTest matchers for Status and Result<T>, named as absl's: IsOk(), IsOkAndHolds(m),
/// StatusIs(code), StatusIs(code, message_matcher). There is deliberately no "is not ok":
/// name the code you expect.

#include <gmock/gmock.h>

#include <ostream>
#include <type_traits>

#include "vpcflow/status.hpp"

namespace vpcflow {

inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
  if (r.ok()) {
    *os << "OK: " << ::testing::PrintToString(r.value());
  } else {
    *os << r.status().ToString();
  }
}

namespace testing_internal {
inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
Status GetStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace testing_internal

MATCHER(IsOk, "is OK") {
  Status s = testing_internal::GetStatus(arg);
  if (!s.ok()) *result_listener << s.ToString();
  return s.ok();
}

MATCHER_P(IsOkAndHolds, m, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << arg.status().ToString();
    return false;
  }
  using Value = std::decay_t<decltype(arg.value())>;
  return ::testing::ExplainMatchResult(::testing::SafeMatcherCast<const Value&>(m), arg.value(),
                                       result_listener);
}

MATCHER_P(StatusIs, code, std::string("has code ") + std::string(StatusCodeName(code))) {
  Status s = testing_internal::GetStatus(arg);
  *result_listener << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has code ") + std::string(StatusCodeName(code)) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  Status s = testing_internal::GetStatus(arg);
  *result_listener << s.ToString();
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, s.message(), result_listener);
}

}  // namespace vpcflow

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::vpcflow::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::vpcflow::IsOk())
