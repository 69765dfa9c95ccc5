#pragma once
/// SortByKeyDescending: an in-place sort of (64-bit key, value) pairs by key, largest first,
/// for DigestTable::Finish (millions of rows ordered by bytes).
///
/// An MSD radix sort that permutes in place (American flag sort): no second array, so the
/// sort's memory is the array itself. Each level takes 8 bits below the highest bit in which the
/// keys of the range differ, so skewed keys (most counts small, a few huge) and runs of equal
/// keys cost no pass over bits they share; small ranges go to std::sort. Values of equal keys
/// end in an unspecified order. Not stable. Pure; on the caller's thread, or on up to `threads`
/// (the caller's and threads - 1 more, started and joined by the call) for a large range.
///
/// FillSortedByKeyDescending: the same order, for items the caller holds elsewhere (the digest's
/// rows), written into an array of pairs. Its first level (buckets on a log scale of the key)
/// is done while the array is filled, so every pass runs on all the threads (a sort in place
/// partitions its whole array on one thread first).

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/run_on_threads.hpp"

namespace vpcflow {

namespace radix_sort_internal {

inline constexpr int kDigitBits = 8;
inline constexpr size_t kBuckets = size_t{1} << kDigitBits;
// Below this many elements a comparison sort beats another counting pass.
inline constexpr ptrdiff_t kSmallRange = 96;
// How far ahead of a bucket's next slot the permutation prefetches (two cache lines).
inline constexpr size_t kPrefetchBytes = 128;

// One level of the sort: permutes [first, last) (more than kSmallRange elements whose keys
// differ only in the bits set in `differ`, some) into kBuckets buckets by the 8 bits below the
// highest bit of `differ`, largest digit first, and calls sub(begin, end, differ) for each
// bucket of two or more elements with the bits its keys differ in.
template <typename V, typename Sub>
void Partition(std::pair<uint64_t, V>* first, std::pair<uint64_t, V>* last, uint64_t differ,
               Sub&& sub) {
  using Element = std::pair<uint64_t, V>;
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
    if (end[b] - begin > 1) sub(first + begin, first + end[b], any[b] ^ all[b]);
    begin = end[b];
  }
}

// Sorts [first, last), whose keys differ only in the bits set in `differ`.
template <typename V>
void SortRange(std::pair<uint64_t, V>* first, std::pair<uint64_t, V>* last, uint64_t differ) {
  using Element = std::pair<uint64_t, V>;
  if (differ == 0) return;  // all keys equal
  if (last - first <= kSmallRange) {
    std::sort(first, last, [](const Element& a, const Element& b) { return a.first > b.first; });
    return;
  }
  Partition(first, last, differ, [](Element* b, Element* e, uint64_t d) { SortRange(b, e, d); });
}

// Ranges this large or larger are worth another thread.
inline constexpr ptrdiff_t kParallelRange = ptrdiff_t{1} << 16;

// The first level of FillSortedByKeyDescending: buckets on a log scale, ascending with the key
// (keys below 16 each their own; above, the bit width and the 3 bits below the top bit, so
// each octave has 8). Unlike a digit of fixed place, this spreads skewed keys (most byte counts
// small, a few huge) over many buckets; the keys of one bucket agree on every bit above their
// lowest w - 4 (w their bit width), so a bucket sorts on its own.
inline constexpr size_t kLogBuckets = 16 + 60 * 8;
inline size_t LogBucket(uint64_t key) {
  const int width = std::bit_width(key);
  if (width <= 4) return static_cast<size_t>(key);
  return 16 + static_cast<size_t>(width - 5) * 8 + static_cast<size_t>((key >> (width - 4)) & 7);
}

// A range left to sort: its keys differ only in the bits of `differ`.
template <typename V>
struct Task {
  std::pair<uint64_t, V>* first;
  std::pair<uint64_t, V>* last;
  uint64_t differ;
};

// Sorts the ranges of `tasks` on the caller and threads - 1 helpers. A range larger than
// `split_above` is partitioned by whoever takes it and its buckets become tasks, a smaller one
// is sorted whole, so a skewed range (most keys in one bucket) is split until the threads have
// pieces of similar size.
template <typename V>
void SortTasksParallel(std::vector<Task<V>> tasks, ptrdiff_t split_above, int threads) {
  using Element = std::pair<uint64_t, V>;
  std::mutex mu;
  std::condition_variable cv;
  size_t running = 0;  // tasks taken and not finished (their buckets may still come)
  auto work = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return !tasks.empty() || running == 0; });
      if (tasks.empty()) return;  // and none running: nothing more will come
      const Task<V> t = tasks.back();
      tasks.pop_back();
      ++running;
      lock.unlock();
      if (t.differ != 0 && t.last - t.first > split_above) {
        Task<V> parts[kBuckets];  // no allocation between the lock's hand-overs
        size_t count = 0;
        Partition(t.first, t.last, t.differ, [&parts, &count](Element* b, Element* e, uint64_t d) {
          parts[count++] = {b, e, d};
        });
        lock.lock();
        try {
          tasks.insert(tasks.end(), parts, parts + count);
        } catch (const std::bad_alloc&) {  // no room to share them: sorted here instead
          lock.unlock();
          for (size_t i = 0; i < count; ++i) {
            SortRange(parts[i].first, parts[i].last, parts[i].differ);
          }
          lock.lock();
        }
      } else {
        SortRange(t.first, t.last, t.differ);
        lock.lock();
      }
      --running;
      cv.notify_all();
    }
  };
  RunOnThreads(static_cast<size_t>(threads), [&work](size_t) { work(); });
}

// The range size above which a task is split rather than sorted whole, for `n` elements on
// `threads`: a quarter of a thread's share, at least kParallelRange.
inline ptrdiff_t SplitAbove(size_t n, int threads) {
  return std::max(kParallelRange, static_cast<ptrdiff_t>(n) / (ptrdiff_t{4} * threads));
}

}  // namespace radix_sort_internal

/// Orders [first, last) by `.first` descending; equal keys in any order. With `threads` > 1 a
/// range of at least 2^16 elements is sorted on that many threads (the keys end in the same
/// order; equal keys' values may end in another).
template <typename V>
void SortByKeyDescending(std::pair<uint64_t, V>* first, std::pair<uint64_t, V>* last,
                         int threads = 1) {
  uint64_t any = 0;
  uint64_t all = UINT64_MAX;
  for (auto* e = first; e != last; ++e) {
    any |= e->first;
    all &= e->first;
  }
  if (threads > 1 && last - first >= radix_sort_internal::kParallelRange) {
    radix_sort_internal::SortTasksParallel<V>(
        {{first, last, any ^ all}}, radix_sort_internal::SplitAbove(last - first, threads),
        threads);
  } else {
    radix_sort_internal::SortRange(first, last, any ^ all);
  }
}

/// Writes `n` pairs into `out` (room for n, not yet constructed: each pair is created in place),
/// ordered as SortByKeyDescending orders them, from items the caller visits:
/// `for_each_in_part(part, parts, emit)` calls emit(uint64_t key, V value) for every item of
/// part `part` of `parts`, the same items in the same order on every call, the parts together
/// holding the n items once each. It is called twice per part (the counts of the first level's
/// buckets, then the items placed in them), from up to `threads` threads at once when n is at
/// least 2^16 (each part from one thread), else on the caller with one part.
template <typename V, typename ForEachInPart>
void FillSortedByKeyDescending(std::pair<uint64_t, V>* out, size_t n,
                               ForEachInPart&& for_each_in_part, int threads = 1) {
  using namespace radix_sort_internal;  // NOLINT(google-build-using-namespace)
  static_assert(std::is_trivially_destructible_v<std::pair<uint64_t, V>>);  // none is destroyed
  const int parts = threads > 1 && n >= static_cast<size_t>(kParallelRange) ? threads : 1;
  // Pass 1: per part, each first-level bucket's count and the bits its keys differ in.
  struct Counts {
    size_t count[kLogBuckets] = {};
    uint64_t any[kLogBuckets] = {};
    uint64_t all[kLogBuckets];
    size_t next[kLogBuckets];
    Counts() { std::fill(all, all + kLogBuckets, UINT64_MAX); }
  };
  std::vector<Counts> counts(static_cast<size_t>(parts));
  RunOnThreads(static_cast<size_t>(parts), [&](size_t part) {
    Counts& c = counts[part];
    for_each_in_part(static_cast<int>(part), parts, [&c](uint64_t key, const V&) {
      const size_t b = LogBucket(key);
      ++c.count[b];
      c.any[b] |= key;
      c.all[b] &= key;
    });
  });
  // Each part's place in each bucket: the buckets from the largest keys down, the parts in
  // order within each.
  std::vector<Task<V>> tasks;
  size_t at = 0;
  for (size_t b = kLogBuckets; b-- > 0;) {
    const size_t begin = at;
    uint64_t any = 0;
    uint64_t all = UINT64_MAX;
    for (Counts& part : counts) {
      part.next[b] = at;
      at += part.count[b];
      any |= part.any[b];
      all &= part.all[b];
    }
    if (at - begin > 1 && (any ^ all) != 0) tasks.push_back({out + begin, out + at, any ^ all});
  }
  // Pass 2: every item placed in its bucket.
  RunOnThreads(static_cast<size_t>(parts), [&](size_t part) {
    Counts& c = counts[part];
    for_each_in_part(static_cast<int>(part), parts, [&c, out](uint64_t key, const V& value) {
      std::construct_at(out + c.next[LogBucket(key)]++, key, value);
    });
  });
  if (parts > 1) {
    SortTasksParallel<V>(std::move(tasks), SplitAbove(n, threads), threads);
  } else {
    for (const Task<V>& t : tasks) SortRange(t.first, t.last, t.differ);
  }
}

}  // namespace vpcflow
