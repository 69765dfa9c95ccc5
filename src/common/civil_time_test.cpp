#include "common/civil_time.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

TEST(CivilTimeTest, EpochIsDayZero) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
}

TEST(CivilTimeTest, KnownInstants) {
  EXPECT_EQ(ToUnixSeconds({.year = 2019, .month = 1, .day = 1}), 1546300800);
  EXPECT_EQ(ToUnixSeconds({2018, 6, 20, 16, 20, 0}), 1529511600);
  EXPECT_EQ(ToUnixSeconds({2038, 1, 19, 3, 14, 8}), int64_t{1} << 31);
  EXPECT_EQ(ToUnixSeconds({2000, 2, 29, 23, 59, 59}), 951868799);
}

TEST(CivilTimeTest, FromUnixSecondsInvertsToUnixSeconds) {
  // Every day from 1900 to 2400 (leap rules of 1900, 2000, 2100 included), at a varying time.
  for (int64_t day = DaysFromCivil(1900, 1, 1); day <= DaysFromCivil(2400, 12, 31); ++day) {
    const int64_t t = day * 86400 + (day * 7919) % 86400;
    const CivilTime c = FromUnixSeconds(t);
    ASSERT_TRUE(IsValidDate(c.year, c.month, c.day)) << t;
    ASSERT_EQ(ToUnixSeconds(c), t);
  }
}

TEST(CivilTimeTest, FromUnixSecondsHandlesNegatives) {
  const CivilTime c = FromUnixSeconds(-1);
  EXPECT_EQ(c.year, 1969);
  EXPECT_EQ(c.month, 12);
  EXPECT_EQ(c.day, 31);
  EXPECT_EQ(c.hour, 23);
  EXPECT_EQ(c.minute, 59);
  EXPECT_EQ(c.second, 59);
}

TEST(CivilTimeTest, ValidatesDates) {
  EXPECT_TRUE(IsValidDate(2020, 2, 29));
  EXPECT_FALSE(IsValidDate(2019, 2, 29));
  EXPECT_FALSE(IsValidDate(1900, 2, 29));
  EXPECT_TRUE(IsValidDate(2000, 2, 29));
  EXPECT_FALSE(IsValidDate(2019, 4, 31));
  EXPECT_TRUE(IsValidDate(2019, 12, 31));
  EXPECT_FALSE(IsValidDate(2019, 13, 1));
  EXPECT_FALSE(IsValidDate(2019, 0, 1));
  EXPECT_FALSE(IsValidDate(2019, 1, 0));
}

TEST(CivilTimeTest, FloorToRoundsDownIncludingNegatives) {
  EXPECT_EQ(FloorTo(125, 60), 120);
  EXPECT_EQ(FloorTo(120, 60), 120);
  EXPECT_EQ(FloorTo(0, 300), 0);
  EXPECT_EQ(FloorTo(-1, 60), -60);
  EXPECT_EQ(FloorTo(-60, 60), -60);
  EXPECT_EQ(FloorTo(1546301099, 300), 1546300800);
}

}  // namespace
}  // namespace vpcflow
