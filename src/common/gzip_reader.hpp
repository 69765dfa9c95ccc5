#pragma once
/// Streaming decompression of an object into text, and splitting text into lines.
///
/// One reader per object, used by one thread. No allocation per line: lines are views into an
/// internal buffer, valid until the next call.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// A source of decompressed bytes.
class TextStream {
 public:
  virtual ~TextStream() = default;
  /// Reads up to `size` bytes of text. Returns 0 only at the end. Returns DataLoss for corrupt or
  /// truncated gzip (bad header, bad block, CRC or length mismatch, stream ends early), and the
  /// reader's error when reading the object fails.
  [[nodiscard]] virtual Result<size_t> Read(char* out, size_t size) = 0;
  /// Compressed bytes consumed so far.
  virtual uint64_t compressed_bytes() const = 0;
};

/// Gzip decoder over an object reader (ISA-L). Handles concatenated gzip members; zero bytes
/// after the last member are ignored, any other trailing bytes must form a valid member (else
/// DataLoss). An empty object (0 bytes) is empty text. After the first error every Read returns
/// the same error. `reader` is borrowed and must outlive the stream.
std::unique_ptr<TextStream> NewGzipTextStream(ObjectReader* reader);

/// Decompresses gzip bytes held in memory (one or more members, as NewGzipTextStream accepts)
/// into `out`. Returns the number of bytes written. DataLoss when the data is corrupt or
/// truncated, or when it holds more than `out.size()` bytes (nothing beyond `out` is written).
Result<size_t> GunzipInto(std::string_view compressed, std::span<char> out);

/// Pass-through for plain (uncompressed) objects.
std::unique_ptr<TextStream> NewPlainTextStream(ObjectReader* reader);

/// Reads until `size` bytes or the end of `stream`; returns how many were read (less than
/// `size` only at the end), or the stream's error.
Result<size_t> ReadFully(TextStream& stream, char* out, size_t size);

/// Splits a TextStream into lines. '\n' ends a line; a trailing '\r' is removed; the last line
/// may lack its '\n'. Lines longer than `max_line_bytes` are returned truncated to that length
/// and the rest of the line is dropped (they will then fail to parse and be counted).
class LineReader {
 public:
  explicit LineReader(TextStream* stream, size_t buffer_bytes = size_t{256} * 1024,
                      size_t max_line_bytes = size_t{64} * 1024);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Sets `*line` to the next line and returns true; returns false at the end (with OK status)
  /// or on error (status() then says why).
  bool Next(std::string_view* line);
  const Status& status() const { return status_; }
  /// Decompressed bytes delivered so far.
  uint64_t text_bytes() const { return text_bytes_; }

 private:
  bool Refill();

  TextStream* stream_;
  std::unique_ptr<char[]> buf_;
  size_t cap_;
  size_t max_line_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool skipping_ = false;  // dropping the tail of an over-long line
  uint64_t text_bytes_ = 0;
  Status status_;
};

}  // namespace vpcflow
