#include "common/chunk_writer.hpp"

#include <algorithm>

namespace vpcflow {

void CharBuffer::Grow(size_t need) {
  const size_t cap = std::max(need, capacity_ * 2);
  std::unique_ptr<char[]> bigger(new char[cap]);
  std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = cap;
}

Status ChunkWriter::Finish() {
  if (!helper_.joinable()) {  // small output: no thread was needed
    if (buffer_.size() > 0) Record(sink_.Append(buffer_.view()));
    buffer_.Clear();
  } else {
    HandOff();
    StopHelper();
  }
  std::lock_guard lock(mu_);
  return status_;
}

void ChunkWriter::HandOff() {
  if (buffer_.size() == 0) return;
  if (!helper_.joinable()) helper_ = std::thread([this] { HelperLoop(); });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !has_work_; });
  std::swap(buffer_, in_flight_);
  has_work_ = true;
  cv_.notify_all();
  lock.unlock();
  buffer_.Clear();
}

void ChunkWriter::HelperLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return has_work_ || closing_; });
    if (!has_work_) return;
    const bool skip = !status_.ok();
    lock.unlock();
    Status s = skip ? OkStatus() : sink_.Append(in_flight_.view());
    lock.lock();
    if (!s.ok() && status_.ok()) {
      status_ = std::move(s);
      failed_ = true;
    }
    in_flight_.Clear();
    has_work_ = false;
    cv_.notify_all();
  }
}

void ChunkWriter::StopHelper() {
  if (!helper_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_all();
  }
  helper_.join();
}

void ChunkWriter::Record(Status s) {
  std::lock_guard lock(mu_);
  if (!s.ok() && status_.ok()) {
    status_ = std::move(s);
    failed_ = true;
  }
}

}  // namespace vpcflow
