#include "parquet/rle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace vpcflow::parquet {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decodes with Get and, for widths up to 8, checks that GetBytes gives the same values.
std::vector<uint32_t> Decode(const std::string& bytes, int width, size_t n) {
  RleDecoder d(Bytes(bytes), width);
  std::vector<uint32_t> out(n);
  const bool ok = d.Get(out.data(), n);
  if (width <= 8) {
    RleDecoder b(Bytes(bytes), width);
    std::vector<uint8_t> small(n);
    EXPECT_EQ(b.GetBytes(small.data(), n), ok) << "width " << width;
    if (ok) {
      EXPECT_EQ(std::vector<uint32_t>(small.begin(), small.end()), out) << "width " << width;
    }
  }
  if (!ok) return {};
  return out;
}

TEST(RleTest, DecodesTheSpecExample) {
  // parquet-format Encodings.md: 0..7 bit-packed with width 3, one group.
  const std::string bytes = std::string("\x03") + "\x88\xc6\xfa";
  EXPECT_THAT(Decode(bytes, 3, 8), ElementsAre(0, 1, 2, 3, 4, 5, 6, 7));
}

TEST(RleTest, DecodesRleRuns) {
  // 300 times 5 (width 3: one value byte), then 2 times 1.
  const std::string bytes = std::string("\xd8\x04\x05") + "\x04\x01";
  std::vector<uint32_t> expected(300, 5);
  expected.push_back(1);
  expected.push_back(1);
  EXPECT_THAT(Decode(bytes, 3, 302), ElementsAreArray(expected));
}

TEST(RleTest, RoundTripsEveryWidth) {
  std::mt19937 rng(7);
  for (int width = 0; width <= 32; ++width) {
    const uint64_t limit = width == 32 ? 0xffffffffULL : (uint64_t{1} << width) - 1;
    std::vector<uint32_t> values;
    for (int i = 0; i < 1000; ++i) {
      const uint32_t v = static_cast<uint32_t>(rng() & limit);
      // Runs of every length, so both run kinds appear.
      const int repeat = (i % 7 == 0) ? static_cast<int>(rng() % 40) : 1;
      for (int r = 0; r < repeat; ++r) values.push_back(v);
    }
    std::string bytes;
    RleEncode(values, width, &bytes);
    EXPECT_EQ(Decode(bytes, width, values.size()), values) << "width " << width;
  }
}

TEST(RleTest, DecodesInPiecesAcrossRuns) {
  std::vector<uint32_t> values;
  for (int i = 0; i < 100; ++i) values.push_back(static_cast<uint32_t>(i % 3 == 0 ? 1 : i % 5));
  values.insert(values.end(), 50, 4);
  std::string bytes;
  RleEncode(values, 3, &bytes);
  // Decodes in steps of 1, 7, 13, 64 and 65 values, into 32-bit values (Get) or bytes (GetBytes).
  auto in_pieces = [&bytes]<typename T>(bool (RleDecoder::*get)(T*, size_t)) {
    RleDecoder d(Bytes(bytes), 3);
    std::vector<uint32_t> got;
    for (size_t step : {1, 7, 13, 64, 65}) {
      std::vector<T> part(step);
      EXPECT_TRUE((d.*get)(part.data(), step));
      got.insert(got.end(), part.begin(), part.end());
    }
    return got;
  };
  EXPECT_EQ(in_pieces(&RleDecoder::Get), values);
  EXPECT_EQ(in_pieces(&RleDecoder::GetBytes), values);
}

// Literal runs read from any position, in pieces that start and end inside groups of 8 and
// span several: each width's whole groups and the values around them.
TEST(RleTest, DecodesEveryWidthInPiecesOfAnySize) {
  std::mt19937 rng(3);
  for (int width = 1; width <= 32; ++width) {
    const uint64_t limit = width == 32 ? 0xffffffffULL : (uint64_t{1} << width) - 1;
    std::vector<uint32_t> values(997);
    for (uint32_t& v : values) v = static_cast<uint32_t>(rng() & limit);
    std::string bytes;
    RleEncode(values, width, &bytes);
    RleDecoder d(Bytes(bytes), width);
    std::vector<uint32_t> got;
    for (size_t step = 1; got.size() < values.size(); step = step * 3 % 61 + 1) {
      std::vector<uint32_t> part(std::min(step, values.size() - got.size()));
      ASSERT_TRUE(d.Get(part.data(), part.size())) << "width " << width;
      got.insert(got.end(), part.begin(), part.end());
    }
    EXPECT_EQ(got, values) << "width " << width;
  }
}

TEST(RleTest, FailsWhenTheDataEnds) {
  std::string bytes;
  RleEncode(std::vector<uint32_t>(20, 1), 1, &bytes);
  RleDecoder d(Bytes(bytes), 1);
  std::vector<uint32_t> out(21);
  EXPECT_FALSE(d.Get(out.data(), 21));
  EXPECT_FALSE(d.Get(out.data(), 1));  // stays failed
}

TEST(RleTest, ALiteralRunCutShortYieldsWhatItsBytesHold) {
  // A run announcing 2 groups (16 values) of width 4 with only 3 bytes (6 values) left.
  const std::string bytes = std::string("\x05") + "\x21\x43\x65";
  EXPECT_THAT(Decode(bytes, 4, 6), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(Decode(bytes, 4, 7), ElementsAre());
}

TEST(RleTest, AHugeRunCountCostsNothingUntilAsked) {
  // An RLE run of 2^62 zeros in 10 bytes: decoding 1000 of them allocates nothing.
  const std::string bytes = std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01\x00", 11);
  EXPECT_EQ(Decode(bytes, 1, 1000), std::vector<uint32_t>(1000, 0));
}

TEST(RleTest, RefusesWidthsAbove32) {
  RleDecoder d(Bytes(std::string("\x02\x01\x00\x00\x00\x00", 6)), 33);
  uint32_t v;
  EXPECT_FALSE(d.Get(&v, 1));
}

TEST(RleTest, GetBytesRefusesWidthsAbove8) {
  std::string bytes;
  RleEncode(std::vector<uint32_t>(8, 1), 9, &bytes);
  RleDecoder d(Bytes(bytes), 9);
  uint8_t v;
  EXPECT_FALSE(d.GetBytes(&v, 1));
  uint32_t w;
  EXPECT_FALSE(d.Get(&w, 1));  // stays failed
}

TEST(RleTest, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
  EXPECT_EQ(BitWidth(UINT64_MAX), 64);
}

}  // namespace
}  // namespace vpcflow::parquet
