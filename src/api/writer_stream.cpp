#include "api/writer_stream.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace vpcflow {

struct WriterStream::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::string buffer;  // written, not read: [read_pos, size)
  size_t read_pos = 0;
  size_t limit = 0;
  bool ended = false;
  bool cancelled = false;
  Status status;
  std::thread thread;
};

namespace {

class PipeSink final : public ByteSink {
 public:
  explicit PipeSink(WriterStream::Shared* shared) : shared_(shared) {}
  Status Append(std::string_view bytes) override;
  Status Close() override { return OkStatus(); }

 private:
  WriterStream::Shared* shared_;
};

}  // namespace

Status PipeSink::Append(std::string_view bytes) {
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait(lock, [&] {
    return shared_->cancelled || shared_->buffer.size() - shared_->read_pos < shared_->limit;
  });
  if (shared_->cancelled) return CancelledError("the reader went away");
  if (shared_->read_pos > 0) {
    // Compact before growing: the buffer stays about `limit` plus one append.
    shared_->buffer.erase(0, shared_->read_pos);
    shared_->read_pos = 0;
  }
  shared_->buffer.append(bytes);
  shared_->cv.notify_all();
  return OkStatus();
}

WriterStream::WriterStream(WriteFn write, size_t buffer_bytes)
    : shared_(std::make_shared<Shared>()) {
  shared_->limit = std::max<size_t>(buffer_bytes, 1);
  Shared* shared = shared_.get();
  try {
    shared_->thread = std::thread([shared, write = std::move(write)] {
      PipeSink sink(shared);
      Status status;
      try {
        status = write(sink);
      } catch (const std::exception& e) {
        status = InternalError(std::string("the answer could not be written: ") + e.what());
      }
      std::lock_guard lock(shared->mu);
      shared->ended = true;
      shared->status = std::move(status);
      shared->cv.notify_all();
    });
  } catch (const std::system_error& e) {
    // No thread to write on: the answer is an error, as if the function had failed at once.
    std::lock_guard lock(shared_->mu);
    shared_->ended = true;
    shared_->status = UnavailableError(std::string("no thread to write the answer: ") + e.what());
  }
}

WriterStream::~WriterStream() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->cancelled = true;
    shared_->cv.notify_all();
  }
  if (shared_->thread.joinable()) shared_->thread.join();
}

Result<size_t> WriterStream::Read(std::span<char> buffer) {
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait(lock,
                   [&] { return shared_->ended || shared_->buffer.size() > shared_->read_pos; });
  const size_t waiting = shared_->buffer.size() - shared_->read_pos;
  if (waiting == 0) {
    if (!shared_->status.ok()) return shared_->status;
    return size_t{0};
  }
  const size_t n = std::min(waiting, buffer.size());
  std::memcpy(buffer.data(), shared_->buffer.data() + shared_->read_pos, n);
  shared_->read_pos += n;
  shared_->cv.notify_all();
  return n;
}

bool WriterStream::WaitForOutput() {
  std::unique_lock lock(shared_->mu);
  shared_->cv.wait(lock,
                   [&] { return shared_->ended || shared_->buffer.size() > shared_->read_pos; });
  return shared_->ended;
}

Status WriterStream::status() const {
  std::lock_guard lock(shared_->mu);
  return shared_->status;
}

std::string WriterStream::TakeAll() {
  std::lock_guard lock(shared_->mu);
  std::string out = shared_->buffer.substr(shared_->read_pos);
  shared_->buffer.clear();
  shared_->read_pos = 0;
  shared_->cv.notify_all();
  return out;
}

}  // namespace vpcflow
