#include "testing/memory_marker.hpp"

#include "vpcflow/storage.hpp"

namespace vpcflow {

MemoryMarker::MemoryMarker(int64_t ttl_ms, ClockPtr clock)
    : ttl_ms_(ttl_ms), clock_(clock != nullptr ? std::move(clock) : SystemClock()) {}

Status MemoryMarker::Mark(std::string_view id) {
  RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  int64_t now = clock_->NowUnixMillis();
  auto it = entries_.find(id);
  if (it == entries_.end()) it = entries_.emplace(std::string(id), Entry()).first;
  Entry& entry = it->second;
  if (entry.marked && now < entry.marked_ms + ttl_ms_) {
    return AlreadyExistsError("digest " + std::string(id) + " is in progress");
  }
  entry = Entry{.marked = true, .marked_ms = now};
  return OkStatus();
}

Status MemoryMarker::Refresh(std::string_view id) {
  RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.marked) {
    return NotFoundError("no in-progress marker for " + std::string(id));
  }
  it->second.marked_ms = clock_->NowUnixMillis();
  return OkStatus();
}

Status MemoryMarker::Unmark(std::string_view id) {
  RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.marked = false;
  return OkStatus();
}

Status MemoryMarker::Fail(std::string_view id, std::string_view reason) {
  RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  entries_[std::string(id)] =
      Entry{.failed = true, .failed_ms = clock_->NowUnixMillis(), .failure = std::string(reason)};
  return OkStatus();
}

Result<MarkInfo> MemoryMarker::State(std::string_view id) {
  RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(mu_);
  MarkInfo info;
  auto it = entries_.find(id);
  if (it == entries_.end()) return info;
  const Entry& entry = it->second;
  if (entry.marked) {
    bool live = clock_->NowUnixMillis() < entry.marked_ms + ttl_ms_;
    info.state = live ? MarkState::kInProgress : MarkState::kStale;
    info.written_unix_ms = entry.marked_ms;
  } else if (entry.failed) {
    info.state = MarkState::kFailed;
    info.written_unix_ms = entry.failed_ms;
    info.failure = entry.failure;
  }
  return info;
}

size_t MemoryMarker::marker_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, entry] : entries_) n += entry.marked ? 1 : 0;
  return n;
}

}  // namespace vpcflow
