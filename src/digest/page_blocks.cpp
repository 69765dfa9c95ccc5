#include "digest/page_blocks.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace vpcflow {

void* MapPageBlock(size_t bytes, PagePolicy policy) {
  // Map one page more than asked and trim, so the block starts on a huge-page boundary.
  const size_t mapped = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  // Pointer arithmetic on the mapping itself (no integer-to-pointer casts).
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const size_t head = ((start + kHugePageBytes - 1) & ~(kHugePageBytes - 1)) - start;
  if (head > 0) munmap(raw, head);
  char* p = static_cast<char*>(raw) + head;
  const size_t tail = mapped - head - bytes;
  if (tail > 0) munmap(p + bytes, tail);
  if (policy == PagePolicy::kHuge) {
    madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
  }
  return p;
}

void UnmapPageBlock(void* p, size_t bytes) { munmap(p, bytes); }

}  // namespace vpcflow
