#pragma once
/// SortByKeyDescending: an in-place sort of (64-bit key, value) pairs by key, largest first,
/// for DigestTable::Finish (millions of rows ordered by bytes).
///
/// An MSD radix sort that permutes in place (American flag sort): no second array, so the
/// sort's memory is the array itself. Each level takes 8 bits below the highest bit in which the
/// keys of the range differ, so skewed keys (most counts small, a few huge) and runs of equal
/// keys cost no pass over bits they share; small ranges go to std::sort. Values of equal keys
/// end in an unspecified order. Not stable. Pure; one thread.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace vpcflow {

namespace radix_sort_internal {

inline constexpr int kDigitBits = 8;
inline constexpr size_t kBuckets = size_t{1} << kDigitBits;
// Below this many elements a comparison sort beats another counting pass.
inline constexpr ptrdiff_t kSmallRange = 96;
// How far ahead of a bucket's next slot the permutation prefetches (two cache lines).
inline constexpr size_t kPrefetchBytes = 128;

// Sorts [first, last), whose keys differ only in the bits set in `differ`.
template <typename V>
void SortRange(std::pair<uint64_t, V>* first, std::pair<uint64_t, V>* last, uint64_t differ) {
  using Element = std::pair<uint64_t, V>;
  if (differ == 0) return;  // all keys equal
  if (last - first <= kSmallRange) {
    std::sort(first, last, [](const Element& a, const Element& b) { return a.first > b.first; });
    return;
  }
  const int top = std::bit_width(differ) - 1;
  const int shift = std::max(0, top - (kDigitBits - 1));
  // Buckets numbered from the largest digit down, so the result is descending.
  auto bucket = [shift](uint64_t key) {
    return kBuckets - 1 - static_cast<size_t>((key >> shift) & (kBuckets - 1));
  };
  // Per bucket: its size, and the bits its keys differ in (from their OR and AND), so a bucket
  // needs no pass of its own to find its next digit.
  size_t count[kBuckets] = {};
  uint64_t any[kBuckets] = {};
  uint64_t all[kBuckets];
  std::fill(all, all + kBuckets, UINT64_MAX);
  for (const Element* e = first; e != last; ++e) {
    const size_t b = bucket(e->first);
    ++count[b];
    any[b] |= e->first;
    all[b] &= e->first;
  }
  size_t next[kBuckets];
  size_t end[kBuckets];
  size_t sum = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    next[b] = sum;
    sum += count[b];
    end[b] = sum;
  }
  // Each element not yet in its bucket is carried along a cycle of swaps until the cycle
  // returns to the bucket it started from.
  for (size_t b = 0; b < kBuckets; ++b) {
    while (next[b] < end[b]) {
      Element carried = std::move(first[next[b]]);
      for (size_t d = bucket(carried.first); d != b; d = bucket(carried.first)) {
        // Each bucket's next slot is its own stream, too many for the hardware prefetcher: the
        // line a few swaps ahead is asked for now, so the chain of swaps rarely waits on DRAM.
        __builtin_prefetch(reinterpret_cast<const char*>(first + next[d]) + kPrefetchBytes, 1);
        std::swap(carried, first[next[d]++]);
      }
      first[next[b]++] = std::move(carried);
    }
  }
  size_t begin = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    if (end[b] - begin > 1) SortRange(first + begin, first + end[b], any[b] ^ all[b]);
    begin = end[b];
  }
}

}  // namespace radix_sort_internal

/// Orders [first, last) by `.first` descending; equal keys in any order.
template <typename V>
void SortByKeyDescending(std::pair<uint64_t, V>* first, std::pair<uint64_t, V>* last) {
  uint64_t any = 0;
  uint64_t all = UINT64_MAX;
  for (auto* e = first; e != last; ++e) {
    any |= e->first;
    all &= e->first;
  }
  radix_sort_internal::SortRange(first, last, any ^ all);
}

}  // namespace vpcflow
