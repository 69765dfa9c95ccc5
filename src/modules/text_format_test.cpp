#include "modules/text_format.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace vpcflow {
namespace {

TEST(TextFormatTest, FormatsMillisecondsInUtc) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1546300800123), "2019-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatRfc3339Millis(1709251199999), "2024-02-29T23:59:59.999Z");
}

TEST(TextFormatTest, ParsesWhatItFormatsAndOtherRfc3339) {
  EXPECT_EQ(ParseRfc3339Millis("2019-01-01T00:00:00.123Z"), 1546300800123);
  EXPECT_EQ(ParseRfc3339Millis("2019-01-01T00:00:00Z"), 1546300800000);
  EXPECT_EQ(ParseRfc3339Millis("2019-01-01T01:00:00.5+01:00"), 1546300800500);
  EXPECT_EQ(ParseRfc3339Millis("2019-01-01T00:00:00.123456789Z"), 1546300800123);
  EXPECT_EQ(ParseRfc3339Millis(FormatRfc3339Millis(1700000000042)), 1700000000042);
  EXPECT_EQ(ParseRfc3339Millis(""), std::nullopt);
  EXPECT_EQ(ParseRfc3339Millis("garbage"), std::nullopt);
}

TEST(TextFormatTest, AppendsShortestDoubles) {
  std::string out;
  AppendDouble(out, 1.0);
  out += ' ';
  AppendDouble(out, 0.1);
  out += ' ';
  AppendDouble(out, -2.5e-7);
  out += ' ';
  AppendDouble(out, std::nan(""), "NaN");
  EXPECT_EQ(out, "1 0.1 -2.5e-07 NaN");
}

}  // namespace
}  // namespace vpcflow
