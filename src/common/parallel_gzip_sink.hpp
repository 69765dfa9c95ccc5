#pragma once
/// A gzip sink that deflates on several threads and still writes ONE gzip member.
///
/// The input is cut into chunks of `chunk_bytes` (by byte count only, never by timing). Each
/// chunk is deflated (ISA-L) on a pool thread as a raw deflate stream primed with the previous
/// chunk's last 1 KiB (the window, kDigestIsalHistBits) and ended by a sync flush (the last chunk
/// by the final block); the streams are written to the target in input order after one gzip header,
/// and Close() writes the trailer (CRC-32 and length of the whole text). Every gzip reader reads
/// the result as a single member, and the bytes depend only on the text and the options (not on the
/// threads' timing nor on their number).
///
/// The sink lends its memory (ByteSink::Exchange): a ChunkWriter formats straight into the
/// chunk being filled (no copy); the bytes a writer puts past a chunk's end are carried into
/// the next, so the chunks are cut exactly as Append cuts them and the output is the same.
///
/// Memory is bounded: at most `chunks_in_flight` chunks (input with 32 KiB of window and 64 KiB
/// of lent slack, output ~1.1 x the input: ~2.2 x chunk_bytes + 100 KiB each, allocated as
/// first needed and reused) exist at once; Append and Exchange block while all are busy (deflating
/// a queued one meanwhile). The sink is used by one caller thread at a time (as any ByteSink); the
/// target is appended to by the pool's threads, one at a time and in order, and closed by Close()
/// on the caller's thread. Threads start with the second chunk (a small output is deflated on the
/// caller's thread at Close) and are joined by Close() or the destructor.
///
/// Errors: the first error of the target (its Append or Close) or of the compressor (Internal)
/// sticks: later Appends return it, nothing more is written, and Close() returns it (and still
/// closes the target). Destroying the sink without Close() stops the threads and leaves the
/// stream unfinished (no trailer; the target is not closed).

#include <cstddef>

#include "vpcflow/byte_sink.hpp"

namespace vpcflow {

struct ParallelGzipOptions {
  /// ISA-L level, clamped to 0-3 (as NewGzipSink).
  int level = 1;
  /// Deflating threads besides the caller, which deflates too whenever every chunk is busy and
  /// at Close; 0 means one fewer than std::thread::hardware_concurrency() (at least 1), so the
  /// caller's own work and the threads together fill the cores without oversubscribing them.
  int threads = 0;
  /// Input bytes per chunk, 64 KiB to 1 GiB (values outside are brought to the nearest bound;
  /// tests that set `allow_small_chunks` may go down to 1 byte).
  size_t chunk_bytes = size_t{1} << 20;
  /// Chunks that may exist at once (filling, queued, deflating, waiting to be written); 0 means
  /// threads + 5: one per deflating thread and the caller's, and four to spare, so that a
  /// chunk still deflating (they are written in order) seldom stops the caller. At least 2.
  size_t chunks_in_flight = 0;
  /// Lets tests use chunks below 64 KiB (many chunks from little text).
  bool allow_small_chunks = false;
};

/// A parallel gzip compressor in front of `target` (not owned, must outlive the sink).
ByteSinkPtr NewParallelGzipSink(ByteSink* target, ParallelGzipOptions options = {});

/// Same, owning the target.
ByteSinkPtr NewParallelGzipSink(ByteSinkPtr target, ParallelGzipOptions options = {});

}  // namespace vpcflow
