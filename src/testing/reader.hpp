#pragma once
/// ReadAll: an ObjectReader read to its end, for tests (one helper instead of a copy per test
/// file). Test code only.

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Reads `reader` until a Read returns 0, with reads of at most `chunk` bytes (at least 1).
/// Returns the bytes, or the first error a Read returns; then `before_error` (when not null)
/// receives the bytes read before that error.
inline Result<std::string> ReadAll(ObjectReader& reader, size_t chunk = 64 * 1024,
                                   std::string* before_error = nullptr) {
  std::string out;
  std::vector<char> buffer(std::max<size_t>(chunk, 1));
  for (;;) {
    Result<size_t> n = reader.Read(std::span<char>(buffer));
    if (!n.ok()) {
      if (before_error != nullptr) *before_error = std::move(out);
      return n.status();
    }
    if (*n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

}  // namespace vpcflow
