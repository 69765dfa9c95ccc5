#pragma once
/// WriterStream: the bytes a function writes into a ByteSink, read as an ObjectReader while it
/// writes them. An HTTP answer that a query writes (RunQuery pushes rows into a sink) is then
/// streamed to the client without being held whole: the function runs on a thread of its own,
/// and blocks whenever `buffer_bytes` are waiting to be read (memory stays bounded).
///
/// Threads: the function runs on the stream's thread; the stream itself (Read, WaitForOutput,
/// destruction) is used by one thread at a time, any thread. Destroying the stream before the
/// function ended makes the sink's next Append return Cancelled and joins the thread (the
/// function should return on a sink error; RunQuery does).

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

class WriterStream final : public ObjectReader {
 public:
  using WriteFn = std::function<Status(ByteSink& sink)>;

  /// Starts `write` on a new thread. When no thread can start, the stream ends at once with
  /// Unavailable (what Read and status() return).
  WriterStream(WriteFn write, size_t buffer_bytes = size_t{1} << 20);
  ~WriterStream() override;

  /// The bytes written, in order, then 0 once the function returned OK; its error (after the
  /// bytes written before it) when it failed. Blocks until bytes are written or it ended.
  Result<size_t> Read(std::span<char> buffer) override;

  /// Blocks until the function wrote a byte or ended. Returns true when it ended; then
  /// status() is its result and TakeAll() everything it wrote.
  bool WaitForOutput();
  Status status() const;
  /// Everything written and not read yet (for a function that ended: its whole output).
  std::string TakeAll();

  struct Shared;  // what the reader and the writer's thread share (writer_stream.cpp)

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace vpcflow
