#pragma once
/// Large allocations for the tables read at random: blocks mapped from the kernel, aligned to
/// the huge-page size, given back whole when freed.
///
/// Whether a block asks for transparent huge pages (MADV_HUGEPAGE) is chosen per table, by
/// measurement on the machines this project runs on (DESIGN.md, "Huge pages: where they pay"):
/// - PagePolicy::kSystem (the digest's rows, index and order): the system's policy decides
///   (small pages under Debian's default `madvise`, huge ones under `always`). These tables grow
///   into fresh memory once; there a 2 MiB fault of fresh memory costs ~3 ms (free pages handed
///   back to the hypervisor are faulted in again), more than its 512 small faults and the TLB
///   misses it saves;
/// - PagePolicy::kHuge (the query's group tables): huge pages asked for. A group is looked up
///   many times a page, and the blocks are freed and mapped again as the table doubles, so the
///   TLB misses saved outweigh the faults.
///
/// Thread-safe (no state).

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace vpcflow {

/// The x86-64 huge page: the alignment and the rounding of every block.
inline constexpr size_t kHugePageBytes = size_t{2} << 20;
enum class PagePolicy { kSystem, kHuge };

/// Maps `bytes` (a multiple of kHugePageBytes) of zeroed memory starting on a kHugePageBytes
/// boundary, advised huge under PagePolicy::kHuge; null when out of memory. Pages are backed
/// (and count in RSS) once touched.
void* MapPageBlock(size_t bytes, PagePolicy policy);
/// Unmaps a block of MapPageBlock: its memory goes back to the system at once.
void UnmapPageBlock(void* p, size_t bytes);

/// An allocator that uses MapPageBlock for blocks of at least kMinHugeBytes (rounded up to
/// whole huge pages) and operator new below that: a large table is given back to the system
/// when freed, not kept in the heap. A kMinHugeBytes below kHugePageBytes maps a whole huge page
/// for a smaller block (touched only as far as it is used under small pages; held whole under
/// huge pages).
template <typename T, size_t kMinHugeBytes = kHugePageBytes,
          PagePolicy kPolicy = PagePolicy::kSystem>
struct PageBlockAllocator {
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = PageBlockAllocator<U, kMinHugeBytes, kPolicy>;
  };
  PageBlockAllocator() = default;
  template <typename U>
  PageBlockAllocator(const PageBlockAllocator<U, kMinHugeBytes, kPolicy>&) {
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
    void* p = MapPageBlock(Rounded(bytes), kPolicy);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinHugeBytes) {
      ::operator delete(p);
    } else {
      UnmapPageBlock(p, Rounded(bytes));
    }
  }
  friend bool operator==(const PageBlockAllocator&, const PageBlockAllocator&) { return true; }
};

/// The allocator of the query's group tables (PagePolicy::kHuge).
template <typename T>
using HugePageAllocator = PageBlockAllocator<T, kHugePageBytes, PagePolicy::kHuge>;

/// `n` elements of a trivially destructible T in a PageBlockAllocator block, not initialized:
/// the owner creates each element (std::construct_at) before reading it, from any thread (no
/// pass zeroes or fills them first), and none is destroyed. Moves, never copies.
template <typename T>
class PageArray {
  static_assert(std::is_trivially_destructible_v<T>);

 public:
  PageArray() = default;
  explicit PageArray(size_t n) : data_(n > 0 ? Allocator().allocate(n) : nullptr), size_(n) {}
  ~PageArray() { Free(); }
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    if (this != &other) {
      Free();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  size_t size() const { return size_; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  using Allocator = PageBlockAllocator<T>;
  void Free() {
    if (data_ != nullptr) Allocator().deallocate(data_, size_);
  }

  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vpcflow
