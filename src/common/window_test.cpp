#include "vpcflow/window.hpp"

#include <gtest/gtest.h>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

constexpr int64_t k2019 = 1546300800;  // 2019-01-01T00:00:00Z

TEST(ParseRfc3339Test, ParsesUtc) {
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00Z"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("1970-01-01T00:00:00Z"), IsOkAndHolds(0));
  EXPECT_THAT(ParseRfc3339("2018-06-20T16:20:07Z"), IsOkAndHolds(1529511607));
}

TEST(ParseRfc3339Test, AcceptsLowerCaseAndSpaceSeparators) {
  EXPECT_THAT(ParseRfc3339("2019-01-01t00:00:00z"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01 00:00:00Z"), IsOkAndHolds(k2019));
}

TEST(ParseRfc3339Test, AppliesOffsets) {
  EXPECT_THAT(ParseRfc3339("2019-01-01T01:00:00+01:00"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2018-12-31T19:00:00-05:00"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T05:30:00+05:30"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00+00:00"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00-00:00"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T23:59:00+23:59"), IsOkAndHolds(k2019));
}

TEST(ParseRfc3339Test, DropsFractions) {
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00.999999999Z"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:59.5Z"), IsOkAndHolds(k2019 + 59));
  EXPECT_THAT(ParseRfc3339("2019-01-01T01:30:00.25+01:30"), IsOkAndHolds(k2019));
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00.000000000000000000001Z"), IsOkAndHolds(k2019));
}

TEST(ParseRfc3339Test, HandlesLeapDays) {
  EXPECT_THAT(ParseRfc3339("2020-02-29T00:00:00Z"), IsOkAndHolds(1582934400));
  EXPECT_THAT(ParseRfc3339("2000-02-29T00:00:00Z"), IsOk());
  EXPECT_THAT(ParseRfc3339("2019-02-29T00:00:00Z"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("day out of range")));
  EXPECT_THAT(ParseRfc3339("1900-02-29T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseRfc3339Test, RefusesLeapSeconds) {
  EXPECT_THAT(ParseRfc3339("2016-12-31T23:59:60Z"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("leap seconds")));
}

TEST(ParseRfc3339Test, RefusesOutOfRangeFields) {
  for (const char* text :
       {"2019-13-01T00:00:00Z", "2019-00-01T00:00:00Z", "2019-04-31T00:00:00Z",
        "2019-01-00T00:00:00Z", "2019-01-01T24:00:00Z", "2019-01-01T00:60:00Z",
        "2019-01-01T00:00:61Z", "2019-01-01T00:00:00+24:00", "2019-01-01T00:00:00+01:60"}) {
    EXPECT_THAT(ParseRfc3339(text),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")))
        << text;
  }
}

TEST(ParseRfc3339Test, RefusesYearsOutside1970To9999InUtc) {
  EXPECT_THAT(ParseRfc3339("1969-12-31T23:59:59Z"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("1970-9999")));
  EXPECT_THAT(ParseRfc3339("1970-01-01T00:30:00+01:00"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("1969-12-31T23:30:00-01:00"), IsOkAndHolds(1800));
  EXPECT_THAT(ParseRfc3339("9999-12-31T23:59:59Z"), IsOkAndHolds(253402300799));
  EXPECT_THAT(ParseRfc3339("9999-12-31T23:59:59-00:01"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("0000-01-01T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseRfc3339Test, RefusesGarbage) {
  for (const char* text : {"",
                           "abc",
                           "2019",
                           "2019-01-01",
                           "2019-01-01T00:00",
                           "2019-01-01T00:00:00",
                           "2019-01-01T00:00Z",
                           "2019-1-01T00:00:00Z",
                           "2019-01-01X00:00:00Z",
                           "2019/01/01T00:00:00Z",
                           " 2019-01-01T00:00:00Z",
                           "2019-01-01T00:00:00Z ",
                           "2019-01-01T00:00:00ZZ",
                           "2019-01-01T00:00:00.Z",
                           "2019-01-01T00:00:00,5Z",
                           "2019-01-01T00:00:00+0100",
                           "2019-01-01T00:00:00+01",
                           "2019-01-01T00:00:00+01:0",
                           "2019-01-01T00:00:00UTC",
                           "+2019-01-01T00:00:00Z",
                           "2019-01-01T0a:00:00Z",
                           "1546300800",
                           "２０19-01-01T00:00:00Z"}) {
    EXPECT_THAT(ParseRfc3339(text),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("not an RFC 3339 time")))
        << "'" << text << "'";
  }
}

TEST(ParseRfc3339Test, MessageQuotesTheTextAndExplains) {
  EXPECT_THAT(ParseRfc3339("abc"),
              StatusIs(StatusCode::kInvalidArgument, "not an RFC 3339 time: 'abc'"));
  EXPECT_THAT(ParseRfc3339("2019-01-01T00:00:00"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing time zone")));
  // '+' unencoded in a URL query arrives as a space.
  EXPECT_THAT(ParseRfc3339("2019-01-01T01:00:00 01:00"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("%2B")));
}

TEST(ParseRfc3339Test, MessageBoundsLongAndControlText) {
  const std::string long_text(1000, 'x');
  Result<int64_t> r = ParseRfc3339(long_text);
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_LT(r.status().message().size(), 120u);
  EXPECT_THAT(ParseRfc3339(std::string("a\nb\0c", 5)),
              StatusIs(StatusCode::kInvalidArgument, "not an RFC 3339 time: 'a?b?c'"));
}

TEST(FormatRfc3339Test, FormatsUtc) {
  EXPECT_EQ(FormatRfc3339(k2019), "2019-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1529511607), "2018-06-20T16:20:07Z");
}

TEST(FormatRfc3339Test, RoundTripsThroughParse) {
  for (int64_t t = 0; t < 253402300799; t += 987654321) {
    EXPECT_THAT(ParseRfc3339(FormatRfc3339(t)), IsOkAndHolds(t));
  }
}

TEST(MakeWindowTest, TruncatesToTheMinute) {
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:59.9Z", "2019-01-01T01:00:30Z"),
              IsOkAndHolds(Window{k2019, k2019 + 3600}));
  EXPECT_THAT(MakeWindow(k2019 + 59, k2019 + 61), IsOkAndHolds(Window{k2019, k2019 + 60}));
}

TEST(MakeWindowTest, ConvertsOffsetsToUtc) {
  EXPECT_THAT(MakeWindow("2019-01-01T01:00:00+01:00", "2019-01-01T00:00:00-01:00"),
              IsOkAndHolds(Window{k2019, k2019 + 3600}));
  EXPECT_THAT(MakeWindow("2019-01-01T05:30:30+05:30", "2019-01-01T01:00:00Z"),
              IsOkAndHolds(Window{k2019, k2019 + 3600}));
}

TEST(MakeWindowTest, ReportsMissingTimes) {
  EXPECT_THAT(MakeWindow("", "2019-01-01T00:00:00Z"),
              StatusIs(StatusCode::kInvalidArgument, "missing start"));
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:00Z", ""),
              StatusIs(StatusCode::kInvalidArgument, "missing stop"));
}

TEST(MakeWindowTest, NamesTheUnparsableTime) {
  EXPECT_THAT(MakeWindow("abc", "2019-01-01T00:00:00Z"),
              StatusIs(StatusCode::kInvalidArgument, "start: not an RFC 3339 time: 'abc'"));
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:00Z", "2019-01-01"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("stop: not an RFC 3339 time: '2019-01-01'")));
}

TEST(MakeWindowTest, StartMustBeBeforeStop) {
  EXPECT_THAT(MakeWindow("2019-01-01T01:00:00Z", "2019-01-01T00:00:00Z"),
              StatusIs(StatusCode::kInvalidArgument, "start must be before stop"));
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:00Z", "2019-01-01T00:00:00Z"),
              StatusIs(StatusCode::kInvalidArgument, "start must be before stop"));
  // Different times that truncate to the same minute.
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:10Z", "2019-01-01T00:00:50Z"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("start must be before stop (both are truncated to the minute")));
}

TEST(MakeWindowTest, RefusesWindowsLongerThanTheMaximum) {
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:00Z", "2019-01-08T00:00:00Z"), IsOk());
  EXPECT_THAT(MakeWindow("2019-01-01T00:00:00Z", "2019-01-08T00:01:00Z"),
              StatusIs(StatusCode::kInvalidArgument, "window longer than 7 days (max 604800 s)"));
  EXPECT_THAT(MakeWindow(k2019, k2019 + 7200, 3600),
              StatusIs(StatusCode::kInvalidArgument, "window longer than 1 hour (max 3600 s)"));
  EXPECT_THAT(MakeWindow(k2019, k2019 + 7200, 90),
              StatusIs(StatusCode::kInvalidArgument, "window longer than 90 seconds (max 90 s)"));
  EXPECT_THAT(MakeWindow(k2019, k2019 + 7200, 0), IsOk());
}

TEST(MakeWindowTest, RefusesSecondsOutOfRange) {
  EXPECT_THAT(MakeWindow(-60, 60), StatusIs(StatusCode::kInvalidArgument, HasSubstr("start")));
  EXPECT_THAT(MakeWindow(0, int64_t{1} << 40),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("stop")));
}

TEST(DigestIdTest, MatchesTheOlderServiceVector) {
  EXPECT_EQ(DigestId(Window{k2019, k2019 + 3600}), "9740a140-ba85-5600-8b93-7b46eec77617");
}

TEST(DigestIdTest, SameWindowWrittenWithOffsetsHasTheSameId) {
  Result<Window> utc = MakeWindow("2019-01-01T00:00:00Z", "2019-01-01T01:00:00Z");
  Result<Window> offset = MakeWindow("2019-01-01T01:00:00+01:00", "2019-01-01T01:00:59.9+00:00");
  ASSERT_THAT(utc, IsOk());
  ASSERT_THAT(offset, IsOk());
  EXPECT_EQ(*utc, *offset);
  EXPECT_EQ(DigestId(*offset), "9740a140-ba85-5600-8b93-7b46eec77617");
}

TEST(DigestIdTest, DiffersByWindow) {
  EXPECT_NE(DigestId(Window{k2019, k2019 + 3600}), DigestId(Window{k2019, k2019 + 3660}));
  EXPECT_NE(DigestId(Window{k2019, k2019 + 3600}), DigestId(Window{k2019 + 60, k2019 + 3600}));
}

TEST(ParseDurationSecondsTest, TakesSecondsOrHourMinuteSecondParts) {
  EXPECT_THAT(ParseDurationSeconds("604800"), IsOkAndHolds(604800));
  EXPECT_THAT(ParseDurationSeconds("168h"), IsOkAndHolds(604800));
  EXPECT_THAT(ParseDurationSeconds("1h30m"), IsOkAndHolds(5400));
  EXPECT_THAT(ParseDurationSeconds("90s"), IsOkAndHolds(90));
  EXPECT_THAT(ParseDurationSeconds("2h0m5s"), IsOkAndHolds(7205));
}

TEST(ParseDurationSecondsTest, RejectsEverythingElseQuotingTheText) {
  for (const char* bad : {"", "0", "0h", "-5", "+5", " 5", "5 ", "h", "5x", "1h30", "1.5h",
                          "a week", "99999999999h"}) {
    EXPECT_THAT(ParseDurationSeconds(bad),
                StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("is not a duration")))
        << bad;
  }
}

}  // namespace
}  // namespace vpcflow
