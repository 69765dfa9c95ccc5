#include "common/parallel_gzip_sink.hpp"

#include <isa-l.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/chunk_writer.hpp"
#include "common/isal_level.hpp"

namespace vpcflow {
namespace {

// Deflate's window: a chunk's back-references reach at most this far into the text before it.
constexpr size_t kHistoryBytes = size_t{1} << kDigestIsalHistBits;
constexpr size_t kMinChunkBytes = size_t{64} * 1024;
constexpr size_t kMaxChunkBytes = size_t{1} << 30;  // ISA-L's counts are 32-bit
// RFC 1952: ID1 ID2, CM=8 (deflate), no flags, MTIME 0, XFL 0, OS 3 (Unix), as ISA-L writes it.
constexpr uint8_t kGzipHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

// One chunk of the text with the window before it, and its deflate stream once made. The input
// has room for a lent writer's slack past the chunk's bytes (ByteSink::kLendSlackBytes).
struct Chunk {
  explicit Chunk(size_t chunk_bytes)
      : data(new uint8_t[kHistoryBytes + chunk_bytes + ByteSink::kLendSlackBytes]) {}
  uint8_t* input() { return data.get() + kHistoryBytes; }

  std::unique_ptr<uint8_t[]> data;  // kHistoryBytes for the window, then the input
  size_t history = 0;               // window bytes, just before input()
  size_t size = 0;                  // input bytes
  bool last = false;
  bool done = false;  // deflated, not yet written (guarded by the sink's mutex)
  std::unique_ptr<uint8_t[]> out;
  size_t out_capacity = 0;
  size_t out_size = 0;
};

// An ISA-L deflate stream and its level buffer; one per thread that deflates.
class ChunkDeflater {
 public:
  explicit ChunkDeflater(int level) : level_(level) {
    level_buf_bytes_ = IsalLevelBufBytes(level);
    if (level_buf_bytes_ > 0) level_buf_.reset(new uint8_t[level_buf_bytes_]);
  }

  // Deflates the chunk into its `out` as a raw deflate stream primed with its window: ended by a
  // sync flush (byte-aligned, not final), or the final block for the last chunk. The first
  // chunk's stream is preceded by the gzip header.
  Status Deflate(Chunk& c, bool first) {
    const size_t least = c.size + c.size / 8 + 4096;
    if (c.out_capacity < least) Grow(c, least);
    c.out_size = 0;
    if (first) {
      std::memcpy(c.out.get(), kGzipHeader, sizeof(kGzipHeader));
      c.out_size = sizeof(kGzipHeader);
    }
    isal_zstream& s = stream_;
    isal_deflate_init(&s);
    s.level = static_cast<uint32_t>(level_);
    s.level_buf = level_buf_.get();
    s.level_buf_size = level_buf_bytes_;
    s.gzip_flag = IGZIP_DEFLATE;
    s.hist_bits = kDigestIsalHistBits;
    if (c.history > 0) {
      const int ret =
          isal_deflate_set_dict(&s, c.input() - c.history, static_cast<uint32_t>(c.history));
      if (ret != COMP_OK) return Failed("isal_deflate_set_dict", ret);
    }
    s.next_in = c.input();
    s.avail_in = static_cast<uint32_t>(c.size);
    s.end_of_stream = c.last ? 1 : 0;
    s.flush = c.last ? NO_FLUSH : SYNC_FLUSH;
    for (int round = 0;; ++round) {
      s.next_out = c.out.get() + c.out_size;
      s.avail_out = static_cast<uint32_t>(c.out_capacity - c.out_size);
      const int ret = isal_deflate(&s);
      c.out_size = c.out_capacity - s.avail_out;
      if (ret != COMP_OK) return Failed("isal_deflate", ret);
      // A finished sync flush returns to a new block's header (igzip_lib.h, isal_deflate).
      const bool finished = c.last ? s.internal_state.state == ZSTATE_END
                                   : s.avail_in == 0 && s.internal_state.state == ZSTATE_NEW_HDR;
      if (finished) return OkStatus();
      if (s.avail_out == 0) {
        Grow(c, c.out_capacity * 2);
      } else if (round > 64) {
        return InternalError("isal_deflate does not finish a chunk");
      }
    }
  }

 private:
  static void Grow(Chunk& c, size_t capacity) {
    std::unique_ptr<uint8_t[]> bigger(new uint8_t[capacity]);
    if (c.out_size > 0) std::memcpy(bigger.get(), c.out.get(), c.out_size);
    c.out = std::move(bigger);
    c.out_capacity = capacity;
  }
  static Status Failed(const char* what, int ret) {
    return InternalError(std::string(what) + " failed with code " + std::to_string(ret));
  }

  int level_;
  uint32_t level_buf_bytes_ = 0;
  std::unique_ptr<uint8_t[]> level_buf_;
  isal_zstream stream_;
};

class ParallelGzipSink final : public ByteSink {
 public:
  ParallelGzipSink(ByteSink* target, ByteSinkPtr owned, const ParallelGzipOptions& o)
      : target_(target),
        owned_(std::move(owned)),
        level_(ClampIsalLevel(o.level)),
        threads_wanted_(
            o.threads > 0 ? o.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1)),
        chunk_bytes_(std::min(kMaxChunkBytes, o.allow_small_chunks
                                                  ? std::max<size_t>(o.chunk_bytes, 1)
                                                  : std::max(o.chunk_bytes, kMinChunkBytes))),
        slots_(std::max<size_t>(2, o.chunks_in_flight > 0
                                       ? o.chunks_in_flight
                                       : static_cast<size_t>(threads_wanted_) + 5)) {}

  ~ParallelGzipSink() override { StopThreads(); }

  Status Append(std::string_view bytes) override {
    if (closed_) return FailedPreconditionError("append to a closed sink");
    while (!bytes.empty() && !failed_.load(std::memory_order_relaxed)) {
      if (fill_ == nullptr) {
        StartFill();
        continue;
      }
      if (fill_->size == chunk_bytes_) {  // full, and more text follows: not the last
        Submit(false);
        continue;
      }
      const size_t n = std::min(bytes.size(), chunk_bytes_ - fill_->size);
      std::memcpy(fill_->input() + fill_->size, bytes.data(), n);
      fill_->size += n;
      bytes.remove_prefix(n);
    }
    return CurrentStatus();
  }

  // The lent memory is the filling chunk's after its bytes. Bytes written past the chunk's size
  // are carried into the next chunk, so the chunks are cut by byte count as Append cuts them.
  Result<Lent> Exchange(size_t used) override {
    if (closed_) return FailedPreconditionError("exchange with a closed sink");
    if (fill_ == nullptr && !failed_.load(std::memory_order_relaxed)) StartFill();
    if (fill_ == nullptr) return CurrentStatus();
    fill_->size += used;
    while (fill_->size > chunk_bytes_) {  // more text follows a full chunk: not the last
      Chunk& full = *fill_;
      const size_t carried = full.size - chunk_bytes_;
      full.size = chunk_bytes_;
      Submit(false);
      StartFill();  // the full chunk stays as it is until its slot is taken again
      if (fill_ == nullptr) return CurrentStatus();
      std::memcpy(fill_->input(), full.input() + chunk_bytes_, carried);
      fill_->size = carried;
    }
    return Lent{reinterpret_cast<char*>(fill_->input() + fill_->size), chunk_bytes_ - fill_->size};
  }

  Status Close() override {
    if (closed_) return CurrentStatus();
    closed_ = true;
    if (fill_ == nullptr) StartFill();
    if (fill_ != nullptr) Submit(true);
    // The caller deflates too until every chunk is written (all of it for a one-chunk text).
    {
      std::unique_lock lock(mu_);
      while (!failed_ && written_ < submitted_) {
        if (!WorkOnce(lock, CallerDeflater())) cv_.wait(lock);
      }
    }
    StopThreads();
    Status st = CurrentStatus();
    if (st.ok()) {
      uint8_t trailer[8];
      for (int i = 0; i < 4; ++i) {
        trailer[i] = static_cast<uint8_t>(crc_ >> (8 * i));
        trailer[4 + i] = static_cast<uint8_t>(total_bytes_ >> (8 * i));
      }
      st = target_->Append(std::string_view(reinterpret_cast<const char*>(trailer), 8));
    }
    Status closed = target_->Close();
    if (st.ok()) st = std::move(closed);
    if (!st.ok()) Fail(st);
    return CurrentStatus();
  }

 private:
  Chunk& Slot(uint64_t seq) { return *slots_[seq % slots_.size()]; }

  Status CurrentStatus() {
    if (!failed_.load(std::memory_order_acquire)) return OkStatus();
    std::lock_guard lock(mu_);
    return status_;
  }

  void Fail(Status s) {  // with mu_ held, or with no thread running
    if (!failed_) {
      status_ = std::move(s);
      failed_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
  }

  ChunkDeflater& CallerDeflater() {
    if (!caller_deflater_) caller_deflater_ = std::make_unique<ChunkDeflater>(level_);
    return *caller_deflater_;
  }

  // Takes the slot of the next chunk once it is free (its chunk from slots_.size() earlier was
  // written), deflating queued chunks meanwhile; primes it with the text's last window.
  void StartFill() {
    const uint64_t seq = submitted_;  // only the caller changes submitted_
    {
      std::unique_lock lock(mu_);
      while (!failed_ && written_ + slots_.size() <= seq) {
        if (!WorkOnce(lock, CallerDeflater())) cv_.wait(lock);
      }
      if (failed_) return;
    }
    std::unique_ptr<Chunk>& slot = slots_[seq % slots_.size()];
    if (!slot) slot = std::make_unique<Chunk>(chunk_bytes_);
    Chunk& c = *slot;
    c.size = 0;
    c.history = 0;
    c.last = false;
    if (seq > 0) {
      // The window is the last bytes of the previous chunk's window and input, which sit
      // contiguously in its buffer; that chunk is read-only until its slot is taken again.
      Chunk& prev = Slot(seq - 1);
      c.history = std::min(kHistoryBytes, prev.history + prev.size);
      std::memcpy(c.input() - c.history, prev.input() + prev.size - c.history, c.history);
    }
    fill_ = &c;
  }

  void Submit(bool last) {
    fill_->last = last;
    fill_ = nullptr;
    {
      std::lock_guard lock(mu_);
      ++submitted_;
      cv_.notify_all();
    }
    if (!last && threads_.empty()) StartThreads();
  }

  void StartThreads() {
    try {
      for (int i = 0; i < threads_wanted_; ++i) threads_.emplace_back([this] { ThreadLoop(); });
    } catch (const std::system_error&) {
      // Fewer threads (or none): the caller deflates whatever they do not.
    }
  }

  void StopThreads() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  void ThreadLoop() {
    ChunkDeflater deflater(level_);
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (!WorkOnce(lock, deflater)) cv_.wait(lock);
    }
  }

  // With mu_ held: deflates the next queued chunk, then writes whatever is ready in order.
  // Returns false when there was nothing to deflate.
  bool WorkOnce(std::unique_lock<std::mutex>& lock, ChunkDeflater& deflater) {
    if (failed_ || next_deflate_ >= submitted_) return false;
    const uint64_t seq = next_deflate_++;
    Chunk& c = Slot(seq);
    lock.unlock();
    Status st = deflater.Deflate(c, seq == 0);
    lock.lock();
    c.done = true;
    if (!st.ok()) Fail(std::move(st));
    WriteReady(lock);
    return true;
  }

  // With mu_ held: unless another thread is writing, writes the deflated chunks that come next
  // in order. The target sees one thread at a time; crc_ and total_bytes_ belong to the writer.
  void WriteReady(std::unique_lock<std::mutex>& lock) {
    if (writing_) return;
    writing_ = true;
    while (!failed_ && !stopping_ && written_ < submitted_ && Slot(written_).done) {
      Chunk& c = Slot(written_);
      lock.unlock();
      crc_ = crc32_gzip_refl(crc_, c.input(), c.size);
      total_bytes_ += c.size;
      Status st =
          target_->Append(std::string_view(reinterpret_cast<const char*>(c.out.get()), c.out_size));
      lock.lock();
      c.done = false;
      if (!st.ok()) {
        Fail(std::move(st));
        break;
      }
      ++written_;
      cv_.notify_all();
    }
    writing_ = false;
  }

  ByteSink* target_;
  ByteSinkPtr owned_;  // == target_ when the sink owns its target
  const int level_;
  const int threads_wanted_;
  const size_t chunk_bytes_;
  std::vector<std::unique_ptr<Chunk>> slots_;
  std::vector<std::thread> threads_;
  std::unique_ptr<ChunkDeflater> caller_deflater_;
  Chunk* fill_ = nullptr;  // the caller's chunk being filled
  bool closed_ = false;

  std::mutex mu_;
  std::condition_variable cv_;  // any change of the counters, the writer role or the status
  uint64_t submitted_ = 0;      // chunks handed over (changed by the caller only)
  uint64_t next_deflate_ = 0;   // next chunk to deflate
  uint64_t written_ = 0;        // chunks written to the target
  bool writing_ = false;
  bool stopping_ = false;
  Status status_;
  std::atomic<bool> failed_{false};
  uint32_t crc_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace

ByteSinkPtr NewParallelGzipSink(ByteSink* target, ParallelGzipOptions options) {
  return std::make_unique<ParallelGzipSink>(target, nullptr, options);
}

ByteSinkPtr NewParallelGzipSink(ByteSinkPtr target, ParallelGzipOptions options) {
  ByteSink* raw = target.get();
  return std::make_unique<ParallelGzipSink>(raw, std::move(target), options);
}

}  // namespace vpcflow
