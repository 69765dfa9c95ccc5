#pragma once
/// Large allocations for tables read at random (the digest's tables; DESIGN.md, "The table").
///
/// Thread-safe (no state).

#include <cstddef>
#include <cstdint>
#include <new>

namespace vpcflow {

/// Whole 2 MiB pages, aligned, and advised to be
/// transparent huge pages. On these (virtual) machines a TLB miss walks two page tables, so huge
/// pages nearly halve the cost of a cache miss into a table of hundreds of MB.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;
/// Maps `bytes` (a multiple of kHugePageBytes) of zeroed memory; null when out of memory.
void* AllocateHugePages(size_t bytes, bool advise_huge);
void FreeHugePages(void* p, size_t bytes);

/// An allocator that uses AllocateHugePages for blocks of at least kMinHugeBytes (rounded up
/// to whole huge pages) and operator new below that. A kMinHugeBytes below kHugePageBytes maps
/// (and, once touched, holds) a whole huge page for a smaller block: it pays where a block is
/// filled at once, as one huge-page fault costs less than a few dozen small-page ones.
template <typename T, size_t kMinHugeBytes = kHugePageBytes>
struct HugePageAllocator {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = HugePageAllocator<U, kMinHugeBytes>;
  };
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U, kMinHugeBytes>&) {
  }  // NOLINT(google-explicit-constructor)

  static size_t Rounded(size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
  /// The bytes a block of `n` elements holds once touched.
  static size_t MappedBytes(size_t n) {
    const size_t bytes = n * sizeof(T);
    return bytes < kMinHugeBytes ? bytes : Rounded(bytes);
  }
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinHugeBytes) return static_cast<T*>(::operator new(bytes));
    void* p = AllocateHugePages(Rounded(bytes), true);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinHugeBytes) {
      ::operator delete(p);
    } else {
      FreeHugePages(p, Rounded(bytes));
    }
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace vpcflow
