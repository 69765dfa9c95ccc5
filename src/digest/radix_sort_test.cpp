#include "digest/radix_sort.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "testing/no_new_threads.hpp"

namespace vpcflow {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint32_t>>;

// `pairs` ordered by FillSortedByKeyDescending from `parts` shares of them (on `threads`).
Pairs FillSorted(const Pairs& pairs, int threads) {
  Pairs out(pairs.size(), {UINT64_MAX, UINT32_MAX});  // every slot must be overwritten
  FillSortedByKeyDescending<uint32_t>(
      out.data(), pairs.size(),
      [&pairs](int part, int parts, auto&& emit) {
        const size_t n = pairs.size();
        const size_t p = static_cast<size_t>(part);
        const size_t m = static_cast<size_t>(parts);
        for (size_t i = n * p / m; i < n * (p + 1) / m; ++i) emit(pairs[i].first, pairs[i].second);
      },
      threads);
  return out;
}

void ExpectOrderedLike(Pairs pairs, Pairs expected);

// Sorts `pairs` with SortByKeyDescending, and fills them with FillSortedByKeyDescending, and
// checks each result against std::sort: keys in the same (descending) order and, since ties
// may end in any order, the same pairs.
void ExpectSortsLikeStdSort(Pairs pairs, int threads = 1) {
  Pairs expected = pairs;
  std::sort(expected.begin(), expected.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  {
    SCOPED_TRACE("filled");
    ExpectOrderedLike(FillSorted(pairs, threads), expected);
  }
  SortByKeyDescending(pairs.data(), pairs.data() + pairs.size(), threads);
  ExpectOrderedLike(std::move(pairs), std::move(expected));
}

void ExpectOrderedLike(Pairs pairs, Pairs expected) {
  ASSERT_EQ(pairs.size(), expected.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    ASSERT_EQ(pairs[i].first, expected[i].first) << "at " << i << " of " << pairs.size();
  }
  auto by_both = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::sort(pairs.begin(), pairs.end(), by_both);
  std::sort(expected.begin(), expected.end(), by_both);
  EXPECT_EQ(pairs, expected);
}

// `n` pairs whose keys come from `key` and whose values number them.
template <typename KeyFn>
Pairs Make(size_t n, KeyFn&& key) {
  Pairs pairs(n);
  for (size_t i = 0; i < n; ++i) pairs[i] = {key(), static_cast<uint32_t>(i)};
  return pairs;
}

TEST(RadixSortTest, SortsEmptyAndSingleRanges) {
  ExpectSortsLikeStdSort({});
  ExpectSortsLikeStdSort({{7, 0}});
}

TEST(RadixSortTest, SortsUniformKeysOverTheWholeRangeWithZeroAndMax) {
  std::mt19937_64 rng(1);
  for (size_t n : {2, 95, 96, 97, 1000, 200000}) {
    Pairs pairs = Make(n, [&] { return rng(); });
    pairs.front().first = 0;
    pairs.back().first = UINT64_MAX;
    pairs[n / 2].first = UINT64_MAX;
    ExpectSortsLikeStdSort(pairs);
  }
}

TEST(RadixSortTest, SortsKeysThatDifferOnlyInLowOrHighBits) {
  std::mt19937_64 rng(2);
  ExpectSortsLikeStdSort(Make(50000, [&] { return (uint64_t{0xabcdef} << 40) | (rng() & 0xfff); }));
  ExpectSortsLikeStdSort(Make(50000, [&] { return (rng() & 0xff00000000000000) | 5; }));
  ExpectSortsLikeStdSort(Make(50000, [&] { return UINT64_MAX - (rng() & 3); }));
}

TEST(RadixSortTest, SortsZipfCountsWithLongRunsOfEqualKeys) {
  // Byte counts of flows: rank r of a Zipf law gets about 1e12 / r^1.2 bytes, so most keys are
  // small and equal, a few are huge.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  ExpectSortsLikeStdSort(Make(300000, [&] {
    const double rank = std::floor(std::pow(1e6, unit(rng))) + 1;
    return static_cast<uint64_t>(1e12 / std::pow(rank, 1.2));
  }));
  // Mostly one value, some zeros and maxima.
  ExpectSortsLikeStdSort(Make(100000, [&] {
    const uint64_t r = rng() % 100;
    return r == 0 ? 0 : r == 1 ? UINT64_MAX : r < 5 ? r : uint64_t{40};
  }));
}

TEST(RadixSortTest, SortsOnSeveralThreadsAsOnOne) {
  // From 2^16 elements the range is shared out: skewed keys (one bucket holding most of them,
  // split again and again), uniform keys, all keys equal but two, and the sizes at the bound.
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto zipf = [&] {
    const double rank = std::floor(std::pow(1e6, unit(rng))) + 1;
    return static_cast<uint64_t>(1e12 / std::pow(rank, 1.2));
  };
  for (int threads : {2, 3, 8}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    ExpectSortsLikeStdSort(Make(400000, zipf), threads);
    ExpectSortsLikeStdSort(Make(300000, [&] { return rng(); }), threads);
    Pairs equal = Make(200000, [] { return uint64_t{44}; });
    equal[7].first = 0;
    equal[150000].first = UINT64_MAX;
    ExpectSortsLikeStdSort(equal, threads);
    for (size_t n : {65535, 65536, 65537}) ExpectSortsLikeStdSort(Make(n, zipf), threads);
  }
}

// Helpers that cannot start leave their share to the caller: the same order on one thread.
TEST(RadixSortTest, SortsOnTheCallerWhenNoHelperCanStart) {
  std::mt19937_64 rng(6);
  const Pairs pairs = Make(300000, [&] { return rng() >> (rng() % 64); });
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  for (int threads : {2, 4}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    ExpectSortsLikeStdSort(pairs, threads);
  }
}

TEST(RadixSortTest, LogBucketsAscendWithTheKeyAndCutOnlyLowBits) {
  using radix_sort_internal::kLogBuckets;
  using radix_sort_internal::LogBucket;
  EXPECT_EQ(LogBucket(0), 0u);
  EXPECT_EQ(LogBucket(15), 15u);
  EXPECT_EQ(LogBucket(16), 16u);
  EXPECT_EQ(LogBucket(UINT64_MAX), kLogBuckets - 1);
  // Around every power of two and at random: never smaller for a larger key, and two keys of
  // one bucket agree on every bit above the lowest (bit width - 4).
  std::mt19937_64 rng(5);
  std::vector<uint64_t> keys;
  for (int bit = 0; bit < 64; ++bit) {
    for (uint64_t d : {0, 1, 2}) keys.push_back((uint64_t{1} << bit) + d - 1);
  }
  for (int i = 0; i < 20000; ++i) keys.push_back(rng() >> (rng() % 64));
  keys.push_back(UINT64_MAX);
  std::sort(keys.begin(), keys.end());
  for (size_t i = 1; i < keys.size(); ++i) {
    const uint64_t a = keys[i - 1];
    const uint64_t b = keys[i];
    ASSERT_LE(LogBucket(a), LogBucket(b)) << a << " " << b;
    ASSERT_LT(LogBucket(b), kLogBuckets);
    if (LogBucket(a) == LogBucket(b) && b >= 16) {
      const int low = std::bit_width(b) - 4;
      EXPECT_EQ(a >> low, b >> low) << a << " " << b;
    }
  }
}

TEST(RadixSortTest, LeavesAllEqualKeysAsTheyAre) {
  Pairs pairs = Make(10000, [] { return uint64_t{52}; });
  const Pairs before = pairs;
  SortByKeyDescending(pairs.data(), pairs.data() + pairs.size());
  EXPECT_EQ(pairs, before);
}

}  // namespace
}  // namespace vpcflow
