#pragma once
/// ReadAll: an ObjectReader read to its end, and ReadObject: a source's object read whole, for
/// tests (one helper instead of a copy per test file). Test code only.

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Reads `reader` until a Read returns 0, with reads of at most `chunk` bytes (at least 1).
/// Returns the bytes, or the first error a Read returns; then `before_error` (when not null)
/// receives the bytes read before that error. A Read that says it filled more than the buffer
/// it was given breaks ObjectReader's contract: Internal (the conformance suites check readers
/// with it).
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
    if (*n > buffer.size()) {
      if (before_error != nullptr) *before_error = std::move(out);
      return InternalError("a Read returned " + std::to_string(*n) + " bytes for a buffer of " +
                           std::to_string(buffer.size()));
    }
    if (*n == 0) return out;
    out.append(buffer.data(), *n);
  }
}

/// Opens `key` of `source` and reads it to its end (ReadAll). Returns the error of Open or of a
/// Read.
inline Result<std::string> ReadObject(ObjectSource& source, std::string_view key,
                                      size_t chunk = 64 * 1024) {
  VPCFLOW_ASSIGN_OR_RETURN(ObjectReaderPtr reader, source.Open(key));
  return ReadAll(*reader, chunk);
}

}  // namespace vpcflow
