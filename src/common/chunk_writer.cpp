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

// Lends a buffer of its own and appends it to the sink once ~1 MiB is written, or at Flush.
class ChunkWriter::Buffered final : public ByteSink {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  explicit Buffered(ByteSink& sink) : sink_(sink), buffer_(kChunkBytes + kLendSlackBytes) {}

  Result<Lent> Exchange(size_t used) override {
    buffer_.Commit(buffer_.Reserve(0) + used);
    if (buffer_.size() >= kChunkBytes) VPCFLOW_RETURN_IF_ERROR(Flush());
    return Lent{buffer_.Reserve(0), kChunkBytes - buffer_.size()};
  }
  Status Flush() {
    Status st = buffer_.size() > 0 ? sink_.Append(buffer_.view()) : OkStatus();
    buffer_.Clear();
    return st;
  }
  Status Append(std::string_view bytes) override {
    VPCFLOW_RETURN_IF_ERROR(Flush());
    return sink_.Append(bytes);
  }
  Status Close() override { return Flush(); }

 private:
  ByteSink& sink_;
  CharBuffer buffer_;  // capacity kChunkBytes + kLendSlackBytes, never grown
};

ChunkWriter::ChunkWriter(ByteSink& sink) : lender_(&sink) {
  Result<ByteSink::Lent> lent = sink.Exchange(0);
  if (!lent.ok() && IsUnimplemented(lent.status())) {  // the sink does not lend
    buffered_ = std::make_unique<Buffered>(sink);
    lender_ = buffered_.get();
    lent = lender_->Exchange(0);
  }
  Lend(std::move(lent));
}

ChunkWriter::~ChunkWriter() = default;

void ChunkWriter::Lend(Result<ByteSink::Lent> lent) {
  if (lent.ok()) {
    base_ = lent->data;
    cut_ = base_ + lent->cut;
  } else {
    if (status_.ok()) status_ = lent.status();
    if (!discard_) discard_.reset(new char[2 * kMaxReserve]);
    base_ = discard_.get();
    cut_ = base_ + kMaxReserve;
  }
  pos_ = base_;
}

void ChunkWriter::Exchange() {
  if (large_ && base_ == large_.get()) {  // a large reservation's bytes: appended
    AppendAndBorrow(std::string_view(base_, static_cast<size_t>(pos_ - base_)));
    return;
  }
  Lend(status_.ok() ? lender_->Exchange(static_cast<size_t>(pos_ - base_))
                    : Result<ByteSink::Lent>(status_));
}

// Appends `s` (bytes not in the lent memory) to the sink, then borrows its memory again. After
// an error, appends nothing.
void ChunkWriter::AppendAndBorrow(std::string_view s) {
  Status st = status_.ok() ? lender_->Append(s) : status_;
  Lend(st.ok() ? lender_->Exchange(0) : Result<ByteSink::Lent>(st));
}

// Hands back what is written, then lends its own buffer of `n` bytes with a cut at its start,
// so the next Commit appends what was written into it.
char* ChunkWriter::ReserveLarge(size_t n) {
  Exchange();
  if (large_capacity_ < n) {
    large_.reset(new char[n]);
    large_capacity_ = n;
  }
  base_ = large_.get();
  pos_ = base_;
  cut_ = base_;
  return pos_;
}

void ChunkWriter::AppendLarge(std::string_view s) {
  Exchange();
  AppendAndBorrow(s);
}

Status ChunkWriter::Finish() {
  Exchange();
  if (status_.ok() && buffered_) status_ = buffered_->Flush();
  return status_;
}

}  // namespace vpcflow
