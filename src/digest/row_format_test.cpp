#include "digest/row_format.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace vpcflow {
namespace {

template <typename T>
std::string Decimal(T v) {
  char buf[24];
  return std::string(buf, PutDecimal(buf, v));
}

template <typename T>
std::string Reference(T v) {
  char buf[24];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

TEST(RowFormatTest, PutDecimalWritesEveryLengthAndEdge) {
  std::vector<uint64_t> values = {0, std::numeric_limits<uint32_t>::max(),
                                  uint64_t{std::numeric_limits<uint32_t>::max()} + 1,
                                  std::numeric_limits<uint64_t>::max()};
  for (uint64_t p = 1; p <= 10000000000000000000ULL; p *= 10) {
    values.insert(values.end(), {p - 1, p, p + 1, 2 * p - 1, 9 * p});
    if (p > std::numeric_limits<uint64_t>::max() / 10) break;
  }
  for (uint64_t v = 0; v < 100000; ++v) values.push_back(v);
  std::mt19937_64 rng(99);
  for (int i = 0; i < 100000; ++i) {
    values.push_back(rng() >> (rng() % 64));
    values.push_back(1762041600 + rng() % 86400);  // a 10-digit time
  }
  for (uint64_t v : values) {
    ASSERT_EQ(Decimal(v), Reference(v)) << v;
    const auto s = static_cast<int64_t>(v);
    ASSERT_EQ(Decimal(s), Reference(s)) << s;
  }
  EXPECT_EQ(Decimal(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(Decimal(int64_t{-1}), "-1");
}

}  // namespace
}  // namespace vpcflow
