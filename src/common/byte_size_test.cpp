#include "common/byte_size.hpp"

#include <gtest/gtest.h>

#include "common/crc32c.hpp"
#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

TEST(ByteSizeTest, ParsesNumbersAndBinaryUnits) {
  EXPECT_THAT(ParseByteSize("268435456"), IsOkAndHolds(268435456u));
  EXPECT_THAT(ParseByteSize("256M"), IsOkAndHolds(uint64_t{256} << 20));
  EXPECT_THAT(ParseByteSize("2g"), IsOkAndHolds(uint64_t{2} << 30));
  EXPECT_THAT(ParseByteSize("512KiB"), IsOkAndHolds(uint64_t{512} << 10));
  EXPECT_THAT(ParseByteSize("512KB"), IsOkAndHolds(uint64_t{512} << 10));
  EXPECT_THAT(ParseByteSize("1.5G"), IsOkAndHolds(uint64_t{3} << 29));
  EXPECT_THAT(ParseByteSize("1T"), IsOkAndHolds(uint64_t{1} << 40));
  EXPECT_THAT(ParseByteSize("7B"), IsOkAndHolds(7u));
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad :
       {"", "M", "-1", "1.5", "12X", "1MM", "1 M", "1.G", "99999999999999999999", "2000T", "1BB"}) {
    EXPECT_THAT(ParseByteSize(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

}  // namespace
}  // namespace vpcflow
