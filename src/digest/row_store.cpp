#include "digest/row_store.hpp"

#include <new>

namespace vpcflow {

RowArena::~RowArena() {
  for (char* chunk : chunks_) UnmapPageBlock(chunk, kHugePageBytes);
}

void* RowArena::Allocate() {
  std::lock_guard lock(mu_);
  if (used_ == kBlocksPerChunk) {
    void* chunk = MapPageBlock(kHugePageBytes, PagePolicy::kSystem);
    if (chunk == nullptr) throw std::bad_alloc();
    chunks_.push_back(static_cast<char*>(chunk));
    used_ = 0;
  }
  return chunks_.back() + kBlockBytes * used_++;
}

size_t RowArena::chunks() const {
  std::lock_guard lock(mu_);
  return chunks_.size();
}

}  // namespace vpcflow
