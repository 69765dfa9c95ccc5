#include "testing/memory_object_source.hpp"

#include <algorithm>
#include <cstring>

#include "common/list_page_builder.hpp"

namespace vpcflow {

namespace {

class SharedStringReader final : public ObjectReader {
 public:
  explicit SharedStringReader(std::shared_ptr<const std::string> bytes)
      : bytes_(std::move(bytes)) {}

  Result<size_t> Read(std::span<char> buffer) override {
    const size_t n = std::min(buffer.size(), bytes_->size() - pos_);
    std::memcpy(buffer.data(), bytes_->data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t pos_ = 0;
};

// Every Read fails (FailObject with on_open = false).
class FailingReader final : public ObjectReader {
 public:
  explicit FailingReader(Status status) : status_(std::move(status)) {}
  Result<size_t> Read(std::span<char>) override { return status_; }

 private:
  Status status_;
};

// Every ReadAt fails (FailObject with on_open = false).
class FailingRandomAccess final : public RandomAccessObject {
 public:
  FailingRandomAccess(uint64_t size, Status status) : size_(size), status_(std::move(status)) {}
  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t, std::span<char>) override { return status_; }

 private:
  uint64_t size_;
  Status status_;
};

Status NoSuchKey(std::string_view key) {
  return NotFoundError("memory: no such key: '" + std::string(key) + "'");
}

}  // namespace

ObjectReaderPtr NewSharedStringReader(std::shared_ptr<const std::string> bytes) {
  return std::make_unique<SharedStringReader>(std::move(bytes));
}

void MemoryObjectSource::Put(std::string key, std::string bytes) {
  auto data = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> lock(mu_);
  not_objects_.erase(key);
  objects_[std::move(key)] = std::move(data);
}

void MemoryObjectSource::PutNotAnObject(std::string key, std::string problem) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_[key] = std::make_shared<const std::string>();
  not_objects_[std::move(key)] = std::move(problem);
}

void MemoryObjectSource::Remove(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_.erase(key);
  not_objects_.erase(key);
}

void MemoryObjectSource::FailList(std::string prefix, Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  list_faults_[std::move(prefix)] = std::move(status);
}

void MemoryObjectSource::FailObject(std::string key, Status status, bool on_open) {
  std::lock_guard<std::mutex> lock(mu_);
  object_faults_[std::move(key)] = {std::move(status), on_open};
}

void MemoryObjectSource::SetMaxPageSize(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  max_page_ = n;
}

std::vector<ListRequest> MemoryObjectSource::list_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return list_calls_;
}

std::vector<std::string> MemoryObjectSource::open_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_calls_;
}

Result<ListPage> MemoryObjectSource::List(const ListRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  list_calls_.push_back(request);
  for (const auto& [prefix, status] : list_faults_) {
    if (request.prefix.starts_with(prefix)) return status;
  }
  ListRequest paged = request;
  if (max_page_ > 0 && (paged.max_keys <= 0 || paged.max_keys > max_page_)) {
    paged.max_keys = max_page_;
  }
  ListPageBuilder builder(paged);
  for (auto it = objects_.lower_bound(builder.first_candidate());
       it != objects_.end() && !builder.done(); ++it) {
    if (!it->first.starts_with(request.prefix)) break;  // sorted: no later key matches either
    if (!builder.Offer(it->first)) continue;
    auto not_object = not_objects_.find(it->first);
    builder.AddObject(it->first, it->second->size(),
                      not_object == not_objects_.end() ? std::string() : not_object->second);
  }
  return std::move(builder).Finish();
}

Result<MemoryObjectSource::Opened> MemoryObjectSource::OpenLocked(std::string_view key) {
  open_calls_.emplace_back(key);
  Opened opened;
  if (auto fault = object_faults_.find(key); fault != object_faults_.end()) {
    if (fault->second.second) return fault->second.first;
    opened.read_fault = fault->second.first;
  }
  auto it = objects_.find(key);
  if (it == objects_.end() || not_objects_.contains(key)) return NoSuchKey(key);
  opened.bytes = it->second;
  return opened;
}

Result<ObjectReaderPtr> MemoryObjectSource::Open(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  VPCFLOW_ASSIGN_OR_RETURN(Opened opened, OpenLocked(key));
  if (!opened.read_fault.ok()) {
    return ObjectReaderPtr(std::make_unique<FailingReader>(opened.read_fault));
  }
  return NewSharedStringReader(std::move(opened.bytes));
}

Result<RandomAccessObjectPtr> MemoryObjectSource::OpenRandomAccess(std::string_view key, uint64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  VPCFLOW_ASSIGN_OR_RETURN(Opened opened, OpenLocked(key));
  if (!opened.read_fault.ok()) {
    return RandomAccessObjectPtr(
        std::make_unique<FailingRandomAccess>(opened.bytes->size(), opened.read_fault));
  }
  return NewMemoryRandomAccessObject(std::move(opened.bytes));
}

Result<uint64_t> MemoryObjectSource::Size(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end() || not_objects_.contains(key)) return NoSuchKey(key);
  return static_cast<uint64_t>(it->second->size());
}

}  // namespace vpcflow
