// S3ObjectSource: flow-log objects from a bucket, downloaded ahead of the parser within a byte
// and a concurrency budget (s3_modules.hpp).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "s3/s3_modules.hpp"

namespace vpcflow {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A download nobody opened for this long is dropped when its bytes are needed.
constexpr auto kUnclaimedLifetime = std::chrono::minutes(5);
// Buffers of consumed downloads kept for the next ones, at most (their memory is charged to the
// byte budget while kept).
constexpr size_t kMaxPooledBuffers = 8;

// The downloads of one source, shared with the readers that hand their bytes back. A download is
// read into a buffer that an earlier, consumed download handed back (a pool): its pages are
// already mapped, where a fresh buffer per object costs a page fault per 4 KiB.
class Prefetcher : public std::enable_shared_from_this<Prefetcher> {
 public:
  struct Entry {
    enum class State { kQueued, kRunning, kDone, kFailed };
    State state = State::kQueued;
    uint64_t size = 0;    // as listed
    uint64_t charge = 0;  // budget held while running or done: max(size, the buffer's capacity)
    std::string bytes;
    SteadyClock::time_point done_at{};
  };

  Prefetcher(std::shared_ptr<S3Client> client, std::string bucket, int64_t max_bytes)
      : client_(std::move(client)), bucket_(std::move(bucket)), max_bytes_(max_bytes) {}

  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([self = shared_from_this()] { self->Work(); });
    }
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  // Queues `key` (a full key) unless known, too large, or prefetching is off.
  void Queue(const std::string& key, uint64_t size) {
    if (threads_.empty() || size == 0 || size > static_cast<uint64_t>(max_bytes_)) return;
    {
      std::lock_guard lock(mu_);
      if (entries_.contains(key)) return;
      auto entry = std::make_shared<Entry>();
      entry->size = size;
      entries_.emplace(key, std::move(entry));
      queue_.push_back(key);
    }
    cv_.notify_all();
  }

  // The downloaded bytes of `key` (waiting while its download runs) and their charge, or nullopt
  // when it was not prefetched or the download failed (the caller then streams it). The bytes
  // stay charged to the budget until Release(charge, bytes).
  std::optional<std::pair<std::string, uint64_t>> Claim(const std::string& key) {
    std::unique_lock lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    std::shared_ptr<Entry> entry = it->second;
    if (entry->state == Entry::State::kQueued) {  // not started: the caller reads it now
      queue_.erase(std::find(queue_.begin(), queue_.end(), key));
      entries_.erase(it);
      return std::nullopt;
    }
    cv_.wait(lock, [&] { return entry->state != Entry::State::kRunning; });
    entries_.erase(key);
    if (entry->state == Entry::State::kFailed) return std::nullopt;  // its charge is gone
    return std::make_pair(std::move(entry->bytes), entry->charge);
  }

  // Gives back a claimed download's charge; its buffer joins the pool (charged there by its
  // capacity) unless the pool is full.
  void Release(uint64_t charge, std::string buffer) {
    {
      std::lock_guard lock(mu_);
      in_flight_bytes_ -= static_cast<int64_t>(charge);
      Pool(std::move(buffer));
    }
    cv_.notify_all();
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    for (;;) {
      std::string key;
      std::shared_ptr<Entry> entry;
      cv_.wait(lock, [&] { return stopping_ || Startable(); });
      if (stopping_) return;
      key = std::move(queue_.front());
      queue_.pop_front();
      entry = entries_.at(key);
      entry->state = Entry::State::kRunning;
      std::string buffer = TakeBuffer(entry->size);
      entry->charge = std::max<uint64_t>(entry->size, buffer.capacity());
      in_flight_bytes_ += static_cast<int64_t>(entry->charge);
      lock.unlock();

      Result<S3GetResult> got =
          client_->GetObject(bucket_, key, std::nullopt, /*if_match=*/"", &buffer);

      lock.lock();
      // The answer may have grown the buffer beyond the charge (an object larger than listed).
      const uint64_t charge = std::max<uint64_t>(entry->charge, buffer.capacity());
      in_flight_bytes_ += static_cast<int64_t>(charge - entry->charge);
      entry->charge = charge;
      if (got.ok()) {
        entry->bytes = std::move(buffer);
        entry->state = Entry::State::kDone;
      } else {
        entry->state = Entry::State::kFailed;
        in_flight_bytes_ -= static_cast<int64_t>(entry->charge);
        Pool(std::move(buffer));
      }
      entry->done_at = SteadyClock::now();
      cv_.notify_all();
    }
  }

  // Whether the front of the queue fits the budget, counted as if it needed a new buffer
  // (freeing pooled buffers, then dropping unclaimed old downloads to make room; failed ones are
  // forgotten then too). Called with mu_ held.
  bool Startable() {
    if (queue_.empty()) return false;
    const int64_t size = static_cast<int64_t>(entries_.at(queue_.front())->size);
    auto fits = [&] { return in_flight_bytes_ + pooled_bytes_ + size <= max_bytes_; };
    if (fits()) return true;
    pool_.clear();
    pooled_bytes_ = 0;
    if (fits()) return true;
    const SteadyClock::time_point cutoff = SteadyClock::now() - kUnclaimedLifetime;
    for (auto it = entries_.begin(); it != entries_.end();) {
      const Entry& e = *it->second;
      const bool finished = e.state == Entry::State::kDone || e.state == Entry::State::kFailed;
      if (finished && e.done_at < cutoff) {
        if (e.state == Entry::State::kDone) in_flight_bytes_ -= static_cast<int64_t>(e.charge);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
    return fits();
  }

  // A pooled buffer for an object of `size` bytes: the smallest that holds it, else the largest
  // (it grows), else a new one. Called with mu_ held.
  std::string TakeBuffer(uint64_t size) {
    if (pool_.empty()) return {};
    auto better = [size](const std::string& a, const std::string& b) {
      const bool a_holds = a.capacity() >= size;
      if (a_holds != (b.capacity() >= size)) return a_holds;
      return a_holds ? a.capacity() < b.capacity() : a.capacity() > b.capacity();
    };
    auto best = std::min_element(pool_.begin(), pool_.end(), better);
    std::string buffer = std::move(*best);
    pool_.erase(best);
    pooled_bytes_ -= static_cast<int64_t>(buffer.capacity());
    return buffer;
  }

  // Keeps `buffer` (emptied) for a later download, within kMaxPooledBuffers and the budget.
  // Called with mu_ held.
  void Pool(std::string buffer) {
    buffer.clear();
    const auto capacity = static_cast<int64_t>(buffer.capacity());
    if (stopping_ || pool_.size() >= kMaxPooledBuffers ||
        in_flight_bytes_ + pooled_bytes_ + capacity > max_bytes_) {
      return;
    }
    pooled_bytes_ += capacity;
    pool_.push_back(std::move(buffer));
  }

  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  const int64_t max_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t in_flight_bytes_ = 0;
  int64_t pooled_bytes_ = 0;       // the capacity of pool_'s buffers
  std::vector<std::string> pool_;  // empty buffers of consumed downloads
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  std::deque<std::string> queue_;
  std::vector<std::thread> threads_;
};

// Reads downloaded bytes; gives their budget back when destroyed.
class PrefetchedReader final : public ObjectReader {
 public:
  PrefetchedReader(std::shared_ptr<Prefetcher> owner, std::string bytes, uint64_t charge)
      : owner_(std::move(owner)), bytes_(std::move(bytes)), charge_(charge) {}
  ~PrefetchedReader() override { owner_->Release(charge_, std::move(bytes_)); }

  Result<size_t> Read(std::span<char> buffer) override {
    const size_t n = std::min(buffer.size(), bytes_.size() - offset_);
    std::memcpy(buffer.data(), bytes_.data() + offset_, n);
    offset_ += n;
    return n;
  }

  // The decoder inflates straight from the download's buffer (no copy into its own).
  std::optional<std::string_view> TakeInMemory() override {
    const std::string_view rest = std::string_view(bytes_).substr(offset_);
    offset_ = bytes_.size();
    return rest;
  }

 private:
  const std::shared_ptr<Prefetcher> owner_;
  std::string bytes_;
  const uint64_t charge_;
  size_t offset_ = 0;
};

class S3ObjectSource final : public ObjectSource {
 public:
  S3ObjectSource(std::shared_ptr<S3Client> client, S3SourceOptions options)
      : client_(std::move(client)),
        options_(std::move(options)),
        prefetcher_(
            std::make_shared<Prefetcher>(client_, options_.bucket, options_.max_bytes_prefetch)) {
    prefetcher_->Start(options_.max_bytes_prefetch > 0 ? options_.max_concurrent_prefetch : 0);
  }
  ~S3ObjectSource() override { prefetcher_->Stop(); }

  Result<ListPage> List(const ListRequest& request) override {
    ListRequest full = request;
    full.prefix = options_.prefix + request.prefix;
    if (!request.start_after.empty()) full.start_after = options_.prefix + request.start_after;
    VPCFLOW_ASSIGN_OR_RETURN(ListPage page, client_->ListObjectsV2(options_.bucket, full));
    if (options_.prefix.empty()) return page;
    const size_t cut = options_.prefix.size();
    for (ObjectInfo& object : page.objects) object.key.erase(0, cut);
    for (std::string& prefix : page.common_prefixes) prefix.erase(0, cut);
    return page;
  }

  Result<ObjectReaderPtr> Open(std::string_view key) override {
    if (key.empty()) return NotFoundError("an empty key names no object");
    const std::string full = options_.prefix + std::string(key);
    if (auto claimed = prefetcher_->Claim(full)) {
      return ObjectReaderPtr(std::make_unique<PrefetchedReader>(
          prefetcher_, std::move(claimed->first), claimed->second));
    }
    return client_->OpenReader(options_.bucket, full, options_.chunk_bytes);
  }

  // Not served from prefetched downloads: random access exists to read only parts of an
  // object, and the engine does not hint such objects (Parquet) to Prefetch.
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key,
                                                 uint64_t tail_bytes) override {
    if (key.empty()) return NotFoundError("an empty key names no object");
    return client_->OpenRandomAccess(options_.bucket, options_.prefix + std::string(key),
                                     tail_bytes);
  }

  Result<uint64_t> Size(std::string_view key) override {
    if (key.empty()) return NotFoundError("an empty key names no object");
    VPCFLOW_ASSIGN_OR_RETURN(
        S3ObjectMeta meta,
        client_->HeadObject(options_.bucket, options_.prefix + std::string(key)));
    return meta.size;
  }

  void Prefetch(std::span<const ObjectInfo> upcoming) override {
    for (const ObjectInfo& object : upcoming) {
      prefetcher_->Queue(options_.prefix + object.key, object.size);
    }
  }

  std::string Describe() const override {
    return "s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
  }

 private:
  const std::shared_ptr<S3Client> client_;
  const S3SourceOptions options_;
  const std::shared_ptr<Prefetcher> prefetcher_;
};

}  // namespace

Result<ObjectSourcePtr> NewS3ObjectSource(std::shared_ptr<S3Client> client,
                                          S3SourceOptions options) {
  if (client == nullptr) return InvalidArgumentError("S3 source: no client");
  if (options.bucket.empty()) return InvalidArgumentError("S3 source: no bucket");
  if (options.max_concurrent_prefetch < 0 || options.max_bytes_prefetch < 0) {
    return InvalidArgumentError("S3 source: prefetch limits must not be negative");
  }
  if (options.chunk_bytes == 0) return InvalidArgumentError("S3 source: chunk_bytes must be > 0");
  return ObjectSourcePtr(std::make_unique<S3ObjectSource>(std::move(client), std::move(options)));
}

}  // namespace vpcflow
