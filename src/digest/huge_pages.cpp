#include "digest/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace vpcflow {

void* AllocateHugePages(size_t bytes, bool advise_huge) {
  // Map one page more than asked and trim, so the block starts on a huge-page boundary.
  const size_t mapped = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + mapped;
  if (end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  void* p = reinterpret_cast<void*>(aligned);
  if (advise_huge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
  return p;
}

void FreeHugePages(void* p, size_t bytes) { munmap(p, bytes); }

}  // namespace vpcflow
