#pragma once
/// Buffered writing of formatted text into a ByteSink: CharBuffer (a growable buffer written
/// through raw pointers) and ChunkWriter (chunks of about 1 MiB handed to the sink by a helper
/// thread while the caller formats the next one).
///
/// Formatting code reserves the most it may write (`Reserve(n)`), writes through the returned
/// pointer and commits the end (`Commit(p)`): no bounds check and no zero-filling per field.
/// Both are used by one thread; ChunkWriter's helper thread only touches the sink.

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// A growable char buffer (no zero-filling as std::string::resize).
class CharBuffer {
 public:
  explicit CharBuffer(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
  /// Room for `n` more bytes; returns where to write them.
  char* Reserve(size_t n) {
    if (size_ + n > capacity_) Grow(size_ + n);
    return data_.get() + size_;
  }
  /// Ends the written part at `end` (a pointer from Reserve, moved past what was written).
  void Commit(char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  void Append(std::string_view s) { Commit(Put(Reserve(s.size()), s)); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return std::string_view(data_.get(), size_); }
  void Clear() { size_ = 0; }

  /// Copies `s` to `out` and returns the end.
  static char* Put(char* out, std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
  }

 private:
  void Grow(size_t need);

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t size_ = 0;
};

/// Formatted output in ~1 MiB chunks appended to a sink; the first error sticks (ok() turns
/// false, later output is dropped, Finish returns it). Once a chunk fills, a helper thread
/// appends it while the caller formats the next one (the sink is typically a gzip compressor, as
/// costly as the formatting), so the sink still sees one thread at a time. Finish() before
/// destruction to learn the status; it does not Close the sink.
class ChunkWriter {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  static constexpr size_t kChunkCapacity = kChunkBytes + size_t{64} * 1024;

  explicit ChunkWriter(ByteSink& sink)
      : sink_(sink), buffer_(kChunkCapacity), in_flight_(kChunkCapacity) {}
  ~ChunkWriter() { StopHelper(); }
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  /// Room for `n` bytes (any size; a chunk grows for a larger one).
  char* Reserve(size_t n) {
    if (buffer_.size() + n > buffer_.capacity()) HandOff();
    return buffer_.Reserve(n);
  }
  void Commit(char* end) {
    buffer_.Commit(end);
    if (buffer_.size() >= kChunkBytes) HandOff();
  }
  void Append(std::string_view s) { Commit(CharBuffer::Put(Reserve(s.size()), s)); }
  /// False once the sink failed.
  bool ok() const { return !failed_.load(std::memory_order_relaxed); }
  /// Hands everything to the sink and returns the first error of the sink, or OK.
  Status Finish();

 private:
  void HandOff();
  void HelperLoop();
  void StopHelper();
  void Record(Status s);

  ByteSink& sink_;
  CharBuffer buffer_;     // being formatted (caller thread)
  CharBuffer in_flight_;  // being appended (helper thread while has_work_)
  std::mutex mu_;
  std::condition_variable cv_;
  bool has_work_ = false;
  bool closing_ = false;
  Status status_;
  std::atomic<bool> failed_{false};
  std::thread helper_;
};

}  // namespace vpcflow
