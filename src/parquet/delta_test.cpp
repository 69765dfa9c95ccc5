#include "parquet/delta.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

namespace vpcflow::parquet {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<int64_t> Decode(const std::string& bytes, size_t n) {
  DeltaDecoder d;
  if (!d.Init(Bytes(bytes))) return {};
  std::vector<int64_t> out(n);
  if (!d.Get(out.data(), n)) return {};
  return out;
}

TEST(DeltaTest, RoundTripsAndMeasuresItsSize) {
  std::mt19937_64 rng(3);
  for (size_t n : {0, 1, 2, 31, 32, 33, 127, 128, 129, 1000, 4097}) {
    std::vector<int64_t> values;
    int64_t v = 1546300800;
    for (size_t i = 0; i < n; ++i) {
      v += static_cast<int64_t>(rng() % 600) - 200;
      values.push_back(v);
    }
    std::string bytes;
    DeltaEncode(values, &bytes);
    const size_t encoded = bytes.size();
    bytes += "trailing data";
    DeltaDecoder d;
    ASSERT_TRUE(d.Init(Bytes(bytes)));
    EXPECT_EQ(d.total(), n);
    size_t size = 0;
    ASSERT_TRUE(d.Size(&size));
    EXPECT_EQ(size, encoded) << n;
    EXPECT_EQ(Decode(bytes, n), values) << n;
  }
}

TEST(DeltaTest, WrapsAroundAtTheExtremes) {
  const std::vector<int64_t> values = {std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min(),
                                       0,
                                       -1,
                                       std::numeric_limits<int64_t>::max(),
                                       42};
  std::string bytes;
  DeltaEncode(values, &bytes);
  EXPECT_EQ(Decode(bytes, values.size()), values);
}

TEST(DeltaTest, DecodesInPieces) {
  std::vector<int64_t> values;
  for (int i = 0; i < 700; ++i) values.push_back(i * i % 97);
  std::string bytes;
  DeltaEncode(values, &bytes);
  DeltaDecoder d;
  ASSERT_TRUE(d.Init(Bytes(bytes)));
  std::vector<int64_t> got;
  for (size_t step : {1, 31, 33, 100, 200, 335}) {
    std::vector<int64_t> part(step);
    ASSERT_TRUE(d.Get(part.data(), step));
    got.insert(got.end(), part.begin(), part.end());
  }
  EXPECT_EQ(got, values);
  int64_t extra;
  EXPECT_FALSE(d.Get(&extra, 1));  // the stream holds exactly 700
}

TEST(DeltaTest, RefusesBadHeaders) {
  DeltaDecoder d;
  EXPECT_FALSE(d.Init(Bytes(std::string("\x64\x04\x0a\x00", 4))));      // block 100: not *128
  EXPECT_FALSE(d.Init(Bytes(std::string("\x80\x01\x00\x0a\x00", 5))));  // no miniblocks
  EXPECT_FALSE(d.Init(Bytes(std::string("\x80\x01\x03\x0a\x00", 5))));  // 128 / 3
  EXPECT_FALSE(d.Init(Bytes(std::string("\x80\x01\x08\x0a\x00", 5))));  // 16 per miniblock
  EXPECT_FALSE(d.Init(Bytes(std::string("\x80\x01\x04", 3))));          // truncated
}

TEST(DeltaTest, FailsOnTruncatedBlocksAndWidthsAbove64) {
  std::vector<int64_t> values;
  for (int i = 0; i < 300; ++i) values.push_back(i * 1000003);
  std::string bytes;
  DeltaEncode(values, &bytes);
  const std::string cut = bytes.substr(0, bytes.size() - 5);
  EXPECT_TRUE(Decode(cut, 300).empty());
  DeltaDecoder d;
  ASSERT_TRUE(d.Init(Bytes(cut)));
  size_t size;
  EXPECT_FALSE(d.Size(&size));

  // One block whose first miniblock claims 65 bits per value.
  const std::string wide =
      std::string("\x80\x01\x04\x05\x00\x00\x41\x00\x00\x00", 10) + std::string(300, '\xff');
  EXPECT_TRUE(Decode(wide, 5).empty());
}

TEST(DeltaTest, AHugeCountCostsNothingUntilAsked) {
  // Header: block 128, 4 miniblocks, 2^62 values; then blocks of width 0.
  std::string bytes = std::string("\x80\x01\x04") + "\x80\x80\x80\x80\x80\x80\x80\x80\x40" + "\x02";
  for (int b = 0; b < 10; ++b) bytes += std::string("\x02\x00\x00\x00\x00", 5);  // delta +1
  EXPECT_EQ(Decode(bytes, 5), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  DeltaDecoder d;
  ASSERT_TRUE(d.Init(Bytes(bytes)));
  size_t size;
  EXPECT_FALSE(d.Size(&size));  // the blocks end long before 2^62 values
}

}  // namespace
}  // namespace vpcflow::parquet
