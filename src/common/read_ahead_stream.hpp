#pragma once
/// A TextStream that reads its source ahead on a helper thread: decompression (the source) and
/// whatever consumes the text (parsing, a query) then run at once, on two cores, instead of one
/// after the other. Used where one reader scans a whole stored digest, and by the digest engine
/// for text objects when a run has more threads than objects.
///
/// Memory: `chunks` buffers of `chunk_bytes`. The stream is used by one thread; the helper
/// thread is the only one that touches the source after construction (when no thread can be
/// started, Read reads the source itself, on the caller's thread). Destroying the stream stops
/// the helper (waiting for a Read of the source in progress to return).

#include <cstddef>
#include <memory>

#include "common/gzip_reader.hpp"

namespace vpcflow {

/// Reads `source` ahead in chunks. Read returns the source's bytes in order, then 0; the
/// source's first error is returned once the bytes before it were read, and by every later
/// Read. compressed_bytes() is the source's, as of the last chunk read.
std::unique_ptr<TextStream> NewReadAheadTextStream(std::unique_ptr<TextStream> source,
                                                   size_t chunk_bytes = size_t{1} << 20,
                                                   size_t chunks = 3);

}  // namespace vpcflow
