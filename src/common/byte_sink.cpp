#include "vpcflow/byte_sink.hpp"

#include <fcntl.h>
#include <isa-l.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/errno_status.hpp"
#include "common/isal_level.hpp"

namespace vpcflow {

namespace {

// stdio buffer of a file sink, and the gzip sink's input and output chunks.
constexpr size_t kFileBufferBytes = 1 << 20;
// A file synced on close starts its write-back after every this many bytes appended, so that
// the disk writes while the rest is produced and the final fsync waits for the tail only.
constexpr uint64_t kWriteBackBytes = uint64_t{8} << 20;
constexpr size_t kGzipChunkBytes = size_t{256} * 1024;

Status AfterClose() { return FailedPreconditionError("append to a closed sink"); }

// A stdio stream, owned (a file sink) or not (stdout).
class StdioSink final : public ByteSink {
 public:
  StdioSink(std::FILE* stream, bool owned, std::string name, bool sync_on_close = false)
      : stream_(stream), owned_(owned), sync_on_close_(sync_on_close), name_(std::move(name)) {
    if (owned_) {
      buffer_.reset(new char[kFileBufferBytes]);
      std::setvbuf(stream_, buffer_.get(), _IOFBF, kFileBufferBytes);
    }
  }
  ~StdioSink() override {
    if (owned_ && stream_ != nullptr) std::fclose(stream_);
  }

  Status Append(std::string_view bytes) override {
    if (closed_) return AfterClose();
    if (!status_.ok()) return status_;
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stream_) != bytes.size()) {
      status_ = ErrnoStatus("write " + name_, errno);
    }
    if (sync_on_close_ && (appended_ += bytes.size()) >= kWriteBackBytes) {
      appended_ = 0;
      // A hint (what stdio has handed to the kernel so far): an error shows up in fsync.
      ::sync_file_range(::fileno(stream_), 0, 0, SYNC_FILE_RANGE_WRITE);
    }
    return status_;
  }

  Status Close() override {
    if (closed_) return status_;
    closed_ = true;
    if (std::fflush(stream_) != 0 && status_.ok()) status_ = ErrnoStatus("write " + name_, errno);
    if (sync_on_close_ && status_.ok() && ::fsync(::fileno(stream_)) != 0) {
      status_ = ErrnoStatus("sync " + name_, errno);
    }
    if (owned_) {
      // fclose reports errors of the final write-back (a full disk shows up here).
      if (std::fclose(stream_) != 0 && status_.ok()) {
        status_ = ErrnoStatus("close " + name_, errno);
      }
      stream_ = nullptr;
    }
    return status_;
  }

 private:
  std::FILE* stream_;
  bool owned_;
  bool sync_on_close_;
  uint64_t appended_ = 0;  // since the last write-back was started
  std::string name_;
  std::unique_ptr<char[]> buffer_;
  bool closed_ = false;
  Status status_;
};

// Input is gathered into chunks so that per-line appends cost a memcpy, not an isal_deflate call.
class GzipSink final : public ByteSink {
 public:
  GzipSink(ByteSink* target, ByteSinkPtr owned, int level)
      : target_(target),
        owned_(std::move(owned)),
        in_(new uint8_t[kGzipChunkBytes]),
        out_(new uint8_t[kGzipChunkBytes]) {
    level = ClampIsalLevel(level);
    isal_deflate_init(&stream_);
    stream_.level = static_cast<uint32_t>(level);
    stream_.gzip_flag = IGZIP_GZIP;
    stream_.flush = NO_FLUSH;
    const uint32_t level_buf_bytes = IsalLevelBufBytes(level);
    if (level_buf_bytes > 0) {
      level_buf_.reset(new uint8_t[level_buf_bytes]);
      stream_.level_buf = level_buf_.get();
      stream_.level_buf_size = level_buf_bytes;
    }
  }

  Status Append(std::string_view bytes) override {
    if (closed_) return AfterClose();
    if (!status_.ok()) return status_;
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (in_len_ + bytes.size() <= kGzipChunkBytes) {
      std::memcpy(in_.get() + in_len_, data, bytes.size());
      in_len_ += bytes.size();
      if (in_len_ == kGzipChunkBytes) FlushInput(false);
      return status_;
    }
    FlushInput(false);
    if (!status_.ok()) return status_;
    if (bytes.size() >= kGzipChunkBytes) {
      Deflate(data, bytes.size(), false);
    } else {
      std::memcpy(in_.get(), data, bytes.size());
      in_len_ = bytes.size();
    }
    return status_;
  }

  Status Close() override {
    if (closed_) return status_;
    closed_ = true;
    if (status_.ok()) FlushInput(true);
    Status closed = target_->Close();
    if (status_.ok()) status_ = std::move(closed);
    return status_;
  }

 private:
  void FlushInput(bool end) {
    Deflate(in_.get(), in_len_, end);
    in_len_ = 0;
  }

  void Deflate(const uint8_t* data, size_t size, bool end) {
    // avail_in is 32-bit: feed huge appends in pieces.
    constexpr size_t kMaxPiece = size_t{1} << 30;
    do {
      const size_t piece = std::min(size, kMaxPiece);
      stream_.next_in = const_cast<uint8_t*>(data);
      stream_.avail_in = static_cast<uint32_t>(piece);
      stream_.end_of_stream = (end && piece == size) ? 1 : 0;
      do {
        stream_.next_out = out_.get();
        stream_.avail_out = kGzipChunkBytes;
        const int ret = isal_deflate(&stream_);
        if (ret != COMP_OK) {
          status_ = InternalError("isal_deflate failed with code " + std::to_string(ret));
          return;
        }
        const size_t produced = kGzipChunkBytes - stream_.avail_out;
        if (produced > 0) {
          status_ = target_->Append(
              std::string_view(reinterpret_cast<const char*>(out_.get()), produced));
          if (!status_.ok()) return;
        }
      } while (stream_.avail_in > 0 ||
               (stream_.end_of_stream && stream_.internal_state.state != ZSTATE_END));
      data += piece;
      size -= piece;
    } while (size > 0);
  }

  ByteSink* target_;
  ByteSinkPtr owned_;  // == target_ when the sink owns its target
  std::unique_ptr<uint8_t[]> in_;
  size_t in_len_ = 0;
  std::unique_ptr<uint8_t[]> out_;
  std::unique_ptr<uint8_t[]> level_buf_;
  isal_zstream stream_;
  bool closed_ = false;
  Status status_;
};

}  // namespace

ByteSinkPtr NewStdioSink(std::FILE* stream) {
  return std::make_unique<StdioSink>(stream, false, "output stream");
}

Result<ByteSinkPtr> NewFileSink(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return ErrnoStatus("create " + path, errno);
  return ByteSinkPtr(std::make_unique<StdioSink>(f, true, path));
}

Result<ByteSinkPtr> NewFdSink(int fd, std::string name, bool sync_on_close) {
  std::FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("open " + name, err);
  }
  return ByteSinkPtr(std::make_unique<StdioSink>(f, true, std::move(name), sync_on_close));
}

ByteSinkPtr NewGzipSink(ByteSink* target, int level) {
  return std::make_unique<GzipSink>(target, nullptr, level);
}

ByteSinkPtr NewGzipSink(ByteSinkPtr target, int level) {
  ByteSink* raw = target.get();
  return std::make_unique<GzipSink>(raw, std::move(target), level);
}

}  // namespace vpcflow
