#pragma once
/// GatedSource: an ObjectSource whose Open() blocks until the test releases it, to catch a job
/// while it runs (a slow bucket). Thread-safe.

#include <atomic>
#include <future>
#include <memory>
#include <string_view>

#include "vpcflow/object_source.hpp"

namespace vpcflow {

/// A source whose Open() waits until Release() (a slow bucket), to catch a job while it runs.
/// WaitOpened() returns once the first Open arrived.
class GatedSource : public ObjectSourceWrapper {
 public:
  explicit GatedSource(ObjectSource* target) : ObjectSourceWrapper(target) {}
  explicit GatedSource(ObjectSourcePtr owned)
      : ObjectSourceWrapper(owned.get()), owned_(std::move(owned)) {}
  Result<ObjectReaderPtr> Open(std::string_view key) override {
    if (!first_open_.exchange(true)) opened_.set_value();
    released_.wait();
    return ObjectSourceWrapper::Open(key);
  }
  void WaitOpened() { opened_future_.wait(); }
  void Release() { release_.set_value(); }

 private:
  ObjectSourcePtr owned_;
  std::atomic<bool> first_open_{false};
  std::promise<void> opened_;
  std::shared_future<void> opened_future_ = opened_.get_future().share();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

}  // namespace vpcflow
