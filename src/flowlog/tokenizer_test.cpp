#include "flowlog/tokenizer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace vpcflow {
namespace {

std::vector<std::string> Split(std::string_view line, size_t limit, bool fast, size_t* count) {
  std::vector<uint32_t> bounds(2 * limit + kTokenBoundsSlack);
  *count = fast ? SplitOnSpaces(line, limit, bounds.data())
                : SplitOnSpacesScalar(line, limit, bounds.data());
  std::vector<std::string> out;
  if (*count > limit) return out;  // the bounds are unspecified then
  for (size_t i = 0; i < *count; ++i) {
    out.emplace_back(line.substr(bounds[2 * i], bounds[2 * i + 1] - bounds[2 * i]));
  }
  return out;
}

std::vector<std::string> Split(std::string_view line, size_t limit = 100) {
  size_t count;
  return Split(line, limit, true, &count);
}

TEST(TokenizerTest, SplitsOnRunsOfSpaces) {
  EXPECT_EQ(Split("a b  c   d"), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(Split("  lead trail  "), (std::vector<std::string>{"lead", "trail"}));
  EXPECT_EQ(Split("tab\tis\rpart"), (std::vector<std::string>{"tab\tis\rpart"}));
  EXPECT_TRUE(Split("").empty());
  EXPECT_TRUE(Split("      ").empty());
  EXPECT_EQ(Split("x"), (std::vector<std::string>{"x"}));
}

TEST(TokenizerTest, TokensAcrossBlockBoundaries) {
  // A token spanning bytes 60-70 and lines of exactly 64 and 128 bytes.
  std::string line = std::string(60, ' ') + "0123456789" + " tail";
  EXPECT_EQ(Split(line), (std::vector<std::string>{"0123456789", "tail"}));
  std::string full(64, 'z');
  EXPECT_EQ(Split(full), (std::vector<std::string>{full}));
  std::string two = std::string(63, 'a') + " " + std::string(64, 'b');
  EXPECT_EQ(Split(two), (std::vector<std::string>{std::string(63, 'a'), std::string(64, 'b')}));
  std::string long_token(1000, 'q');
  EXPECT_EQ(Split(" " + long_token + " "), (std::vector<std::string>{long_token}));
}

// The last, partial block of a line of 64 bytes or more is read as the line's last 64 bytes
// (overlapping the previous block) and its mask shifted: tokens and spaces on either side of
// where that load starts and of the line's end must come out as the scalar splitter's.
TEST(TokenizerTest, LastPartialBlockOfLongLines) {
  for (size_t len = 64; len <= 200; ++len) {
    // Spaces or not at the previous block's end, where the overlapping load starts, the end.
    const size_t places[] = {63, 64, len - 65, len - 64, len - 2, len - 1};
    for (unsigned subset = 0; subset < 64; ++subset) {
      std::string line(len, 'x');
      for (size_t i = 0; i < 6; ++i) {
        if ((subset >> i) % 2 == 1 && places[i] < len) line[places[i]] = ' ';
      }
      size_t fast_count, slow_count;
      auto fast = Split(line, 100, true, &fast_count);
      auto slow = Split(line, 100, false, &slow_count);
      ASSERT_EQ(fast_count, slow_count) << "'" << line << "'";
      ASSERT_EQ(fast, slow) << "'" << line << "'";
      std::vector<uint32_t> bounds(2 * 100 + kTokenBoundsSlack);
      ASSERT_EQ(SplitOnSpacesSse2(line, 100, bounds.data()), slow_count) << "'" << line << "'";
    }
  }
}

// Lines of 2 to 128 bytes with single spaces between tokens take their bounds from the
// separators alone: every length, separators on both sides of the 64-byte block boundary, and
// limits around the token count; a run of spaces or a space at either end anywhere takes the
// general path. All must come out as the scalar splitter's.
TEST(TokenizerTest, SingleSpacedLinesAgreeWithScalar) {
  std::mt19937 rng(128);
  for (int i = 0; i < 30000; ++i) {
    const size_t len = 1 + rng() % 140;
    std::string line;
    while (line.size() < len) {
      line += std::string(1 + rng() % 12, static_cast<char>('a' + rng() % 26));
      if (line.size() < len) line += ' ';
    }
    line.resize(len);
    if (line.back() == ' ') line.back() = 'z';
    switch (rng() % 6) {
      case 0:
        line[rng() % len] = ' ';  // maybe a run, or a space at an end
        break;
      case 1:
        if (len > 65) line[63] = line[64] = ' ';  // a run across the block boundary
        break;
      default:
        break;
    }
    size_t scalar_count;
    auto scalar = Split(line, 100, false, &scalar_count);
    for (size_t limit : {size_t{100}, scalar_count, scalar_count - 1, size_t{0}, size_t{1}}) {
      if (limit > 100) continue;
      size_t fast_count, slow_count;
      auto fast = Split(line, limit, true, &fast_count);
      auto slow = Split(line, limit, false, &slow_count);
      ASSERT_EQ(fast_count, slow_count) << "'" << line << "' limit " << limit;
      ASSERT_EQ(fast, slow) << "'" << line << "' limit " << limit;
      std::vector<uint32_t> bounds(2 * limit + kTokenBoundsSlack);
      ASSERT_EQ(SplitOnSpacesSse2(line, limit, bounds.data()), slow_count) << "'" << line << "'";
    }
  }
}

TEST(TokenizerTest, ManyTokensInOneBlock) {
  // 32 one-byte tokens in 64 bytes: 64 edges in one block, the most the slack allows for.
  std::string line;
  for (int i = 0; i < 32; ++i) line += "x ";
  size_t count;
  EXPECT_EQ(Split(line, 32, true, &count).size(), 32u);
  EXPECT_EQ(count, 32u);
  Split(line, 31, true, &count);
  EXPECT_EQ(count, 32u);
  Split(line + line + line, 0, true, &count);
  EXPECT_EQ(count, 1u);
}

TEST(TokenizerTest, StopsAfterTheLimit) {
  size_t count;
  Split("a b c d e", 3, true, &count);
  EXPECT_EQ(count, 4u);
  EXPECT_EQ(Split("a b c", 3, true, &count).size(), 3u);
  EXPECT_EQ(count, 3u);
  Split("a b c   ", 3, true, &count);
  EXPECT_EQ(count, 3u);
  Split("a", 0, true, &count);
  EXPECT_EQ(count, 1u);
  Split("   ", 0, true, &count);
  EXPECT_EQ(count, 0u);
}

TEST(TokenizerTest, FastAndSse2AgreeWithScalarOnRandomLines) {
  std::mt19937 rng(99);
  const char other[] = {'a', '1', '-', '.', '\r', '\t', ':', '\0'};
  const unsigned kSpacePercent[] = {10, 35, 70};
  for (int i = 0; i < 20000; ++i) {
    size_t len = rng() % 300;
    // Mostly text, mixed, or mostly spaces: few or many edges in a block.
    const unsigned space_percent = kSpacePercent[rng() % 3];
    std::string line;
    for (size_t j = 0; j < len; ++j) {
      line += rng() % 100 < space_percent ? ' ' : other[rng() % sizeof(other)];
    }
    size_t limit = rng() % 4 == 0 ? rng() % 10 : 128;
    size_t fast_count, slow_count;
    auto fast = Split(line, limit, true, &fast_count);
    auto slow = Split(line, limit, false, &slow_count);
    ASSERT_EQ(fast_count, slow_count) << "'" << line << "' limit " << limit;
    // The fallback of processors without POPCNT/AVX2 returns the same bounds.
    std::vector<uint32_t> fast_bounds(2 * limit + kTokenBoundsSlack);
    std::vector<uint32_t> sse2_bounds(2 * limit + kTokenBoundsSlack);
    ASSERT_EQ(SplitOnSpacesSse2(line, limit, sse2_bounds.data()),
              SplitOnSpaces(line, limit, fast_bounds.data()));
    if (fast_count <= limit) {
      sse2_bounds.resize(2 * fast_count);
      fast_bounds.resize(2 * fast_count);
      ASSERT_EQ(sse2_bounds, fast_bounds) << "'" << line << "'";
    }
    if (fast_count <= limit) {
      ASSERT_EQ(fast, slow) << "'" << line << "'";
    }
  }
}

}  // namespace
}  // namespace vpcflow
