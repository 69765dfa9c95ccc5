#include "common/read_ahead_stream.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>

namespace vpcflow {
namespace {

class ReadAheadTextStream final : public TextStream {
 public:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t size = 0;
  };

  ReadAheadTextStream(std::unique_ptr<TextStream> source, size_t chunk_bytes, size_t chunks)
      : source_(std::move(source)), chunk_bytes_(chunk_bytes), free_(std::max<size_t>(chunks, 2)) {
    for (Chunk& chunk : free_) chunk.data.reset(new char[chunk_bytes_]);
  }
  ~ReadAheadTextStream() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (helper_.joinable()) helper_.join();
  }

  Result<size_t> Read(char* out, size_t size) override {
    if (inline_) return source_->Read(out, size);
    if (!helper_.joinable()) {
      try {
        helper_ = std::thread([this] { Fill(); });
      } catch (const std::system_error&) {
        inline_ = true;  // no thread to spare: the caller reads the source itself
        return source_->Read(out, size);
      }
    }
    while (pos_ == current_.size) {
      std::unique_lock lock(mu_);
      if (current_.data) {  // hand the drained buffer back to the helper
        free_.push_back(std::move(current_));
        current_ = Chunk();
        pos_ = 0;
        cv_.notify_all();
      }
      cv_.wait(lock, [this] { return !full_.empty() || done_; });
      if (full_.empty()) {
        if (!status_.ok()) return status_;
        return size_t{0};
      }
      current_ = std::move(full_.front());
      full_.pop_front();
      pos_ = 0;
    }
    const size_t n = std::min(size, current_.size - pos_);
    std::memcpy(out, current_.data.get() + pos_, n);
    pos_ += n;
    return n;
  }

  uint64_t compressed_bytes() const override {
    return inline_ ? source_->compressed_bytes() : compressed_.load();
  }

 private:
  // The helper: fills free buffers from the source until the end, an error or a stop.
  void Fill() {
    for (;;) {
      Chunk buffer;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !free_.empty(); });
        if (stopping_) return;
        buffer = std::move(free_.front());
        free_.pop_front();
      }
      size_t filled = 0;
      Status error;
      while (filled < chunk_bytes_) {
        Result<size_t> n = source_->Read(buffer.data.get() + filled, chunk_bytes_ - filled);
        if (!n.ok()) {
          error = n.status();
          break;
        }
        if (*n == 0) break;
        filled += *n;
      }
      compressed_ = source_->compressed_bytes();
      buffer.size = filled;
      std::lock_guard lock(mu_);
      if (filled > 0) full_.push_back(std::move(buffer));
      // The bytes before an error are delivered first, then the error.
      status_ = error;
      done_ = !error.ok() || filled < chunk_bytes_;
      cv_.notify_all();
      if (done_) return;
    }
  }

  std::unique_ptr<TextStream> source_;
  const size_t chunk_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> free_;  // buffers for the helper to fill
  std::deque<Chunk> full_;  // filled, in order
  bool done_ = false;       // the helper has read to the end (or failed)
  bool stopping_ = false;
  Status status_;
  std::atomic<uint64_t> compressed_{0};
  Chunk current_;  // being read by the caller (not under the lock)
  size_t pos_ = 0;
  bool inline_ = false;  // the helper could not start: Read reads the source
  std::thread helper_;
};

}  // namespace

std::unique_ptr<TextStream> NewReadAheadTextStream(std::unique_ptr<TextStream> source,
                                                   size_t chunk_bytes, size_t chunks) {
  return std::make_unique<ReadAheadTextStream>(std::move(source), chunk_bytes, chunks);
}

}  // namespace vpcflow
