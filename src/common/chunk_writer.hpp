#pragma once
/// Buffered writing of formatted text into a ByteSink: CharBuffer (a growable buffer written
/// through raw pointers) and ChunkWriter (the formatting front end of any sink; in place into
/// a sink that lends its memory, ByteSink::Exchange).
///
/// Formatting code reserves the most it may write (`Reserve(n)`), writes through the returned
/// pointer and commits the end (`Commit(p)`): no bounds check and no zero-filling per field.
/// Each is used by one thread.

#include <cstring>
#include <memory>
#include <string_view>

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

/// Formatted output into a sink; the first error sticks (ok() turns false, later output is
/// dropped, Finish returns it). A sink that lends its memory (ByteSink::Exchange) is written in
/// place (no copy, no thread); any other gets the text in chunks of about 1 MiB, appended on the
/// caller's thread.
/// Finish() before destruction to learn the status; it does not Close the sink, which the
/// caller may append to again after Finish.
class ChunkWriter {
 public:
  /// The largest `n` of Reserve written in place; a larger reservation (a row with very long
  /// owner strings, escaped) is formatted into a buffer of the writer's own and appended.
  static constexpr size_t kMaxReserve = ByteSink::kLendSlackBytes;

  explicit ChunkWriter(ByteSink& sink);
  ~ChunkWriter();
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  /// Room for `n` bytes (any size).
  char* Reserve(size_t n) { return n <= kMaxReserve ? pos_ : ReserveLarge(n); }
  /// Ends the written bytes at `end` (a pointer from Reserve, moved past what was written).
  void Commit(char* end) {
    pos_ = end;
    if (pos_ >= cut_) Exchange();
  }
  /// Appends bytes of any size.
  void Append(std::string_view s) {
    if (s.size() <= kMaxReserve) {
      Commit(CharBuffer::Put(Reserve(s.size()), s));
    } else {
      AppendLarge(s);
    }
  }
  /// False once the sink failed.
  bool ok() const { return status_.ok(); }
  /// Hands everything to the sink and returns the first error of the sink, or OK.
  Status Finish();

 private:
  class Buffered;
  void Exchange();
  void AppendLarge(std::string_view s);
  void AppendAndBorrow(std::string_view s);
  char* ReserveLarge(size_t n);
  void Lend(Result<ByteSink::Lent> lent);

  std::unique_ptr<Buffered> buffered_;  // in front of a sink that does not lend
  ByteSink* lender_;                    // the sink, or buffered_
  char* base_ = nullptr;                // the memory lent
  char* pos_ = nullptr;                 // the end of the bytes written into it
  char* cut_ = nullptr;                 // where it is handed back
  Status status_;
  std::unique_ptr<char[]> discard_;  // written after an error
  std::unique_ptr<char[]> large_;    // a reservation above kMaxReserve (base_ while written)
  size_t large_capacity_ = 0;
};

}  // namespace vpcflow
