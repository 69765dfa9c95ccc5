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

/// An allocator that uses AllocateHugePages for blocks of at least kHugePageBytes (rounded up
/// to whole pages) and operator new below that.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT(google-explicit-constructor)

  static size_t Rounded(size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    void* p = AllocateHugePages(Rounded(bytes), true);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      ::operator delete(p);
    } else {
      FreeHugePages(p, Rounded(bytes));
    }
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace vpcflow
