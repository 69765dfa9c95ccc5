#pragma once
/// ByteSink: where encoded output goes (a file, a string, a gzip stream, an HTTP body).
///
/// A sink is used by one thread at a time. After Close() (or the first error) no more Append.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  ByteSink() = default;
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;

  /// Appends bytes. Returns the underlying write error (Unavailable/Internal) on failure.
  [[nodiscard]] virtual Status Append(std::string_view bytes) = 0;
  /// Flushes everything and finishes the stream (a gzip sink writes its trailer). Idempotent.
  [[nodiscard]] virtual Status Close() = 0;

  /// How far a writer may write past the lent memory's `cut`: its largest reservation.
  static constexpr size_t kLendSlackBytes = size_t{64} * 1024;
  /// Memory lent: `data[0, cut + kLendSlackBytes)` may be written. The writer hands it back by
  /// Exchange once it wrote `cut` bytes or more, or when it stops writing.
  struct Lent {
    char* data = nullptr;
    size_t cut = 0;
  };
  /// Optional: lends the memory the next bytes go to, so a writer formats them in place instead
  /// of having them copied in (ChunkWriter does; ParallelGzipSink lends its chunks). Takes the
  /// first `used` bytes of the memory lent last (0 when none is lent) as the next bytes of the
  /// stream, exactly as Append of them would, and lends the memory for the bytes after them.
  /// Any other call on the sink ends the loan (bytes not handed back are lost). After an error,
  /// returns it. Unimplemented (the default) when the sink does not lend: write with Append.
  [[nodiscard]] virtual Result<Lent> Exchange(size_t used) {
    (void)used;
    return UnimplementedError("the sink does not lend its memory");
  }
};
using ByteSinkPtr = std::unique_ptr<ByteSink>;

/// Appends into a std::string it owns.
class StringSink final : public ByteSink {
 public:
  Status Append(std::string_view bytes) override {
    data_.append(bytes);
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }
  const std::string& data() const { return data_; }
  std::string Release() { return std::move(data_); }

 private:
  std::string data_;
};

/// Writes to a stdio stream it does not own (stdout). Close() flushes.
ByteSinkPtr NewStdioSink(std::FILE* stream);

/// Creates (truncating) the file at `path` and writes to it; Close() flushes and closes.
/// Returns Unavailable/PermissionDenied/NotFound naming the path when it cannot be created.
Result<ByteSinkPtr> NewFileSink(const std::string& path);

/// Writes to the open file descriptor `fd` and owns it (it is closed by Close(), and at once
/// when this fails). `name` is used in error messages. With `sync_on_close`, Close() also
/// fsync()s the file before closing it (a file about to be renamed into place), and the
/// file's write-back is started every 8 MiB appended, so that fsync waits for the tail. Returns
/// Unavailable when the descriptor cannot be wrapped.
Result<ByteSinkPtr> NewFdSink(int fd, std::string name, bool sync_on_close = false);

/// A gzip (RFC 1952) compressor in front of `target` (not owned, must outlive the sink).
/// `level` 1-3 (ISA-L levels; 1 is fastest; 0 is accepted, other values are clamped to 0-3).
/// Close() writes the trailer and closes the target. Destroying the sink without Close() leaves
/// the stream unfinished.
ByteSinkPtr NewGzipSink(ByteSink* target, int level = 1);

/// Same, owning the target.
ByteSinkPtr NewGzipSink(ByteSinkPtr target, int level = 1);

}  // namespace vpcflow
