#include "testing/memory_marker.hpp"

#include <algorithm>

#include "modules/marker/mark_record.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {
namespace {

// As CompleteMarkerOptions, for the positive TTL and heartbeat the header asks for.
MarkerOptions Completed(MarkerOptions options) {
  options.ttl_ms = std::max<int64_t>(options.ttl_ms, 1);
  options.heartbeat_ms = std::clamp<int64_t>(options.heartbeat_ms, 1, kMaxHeartbeatMs);
  if (options.clock == nullptr) options.clock = SystemClock();
  if (!options.owner) options.owner = ThisMarkOwner();
  return options;
}

}  // namespace

MemoryMarker::MemoryMarker(int64_t ttl_ms, ClockPtr clock)
    : MemoryMarker(
          MarkerOptions{.ttl_ms = ttl_ms, .heartbeat_ms = ttl_ms, .clock = std::move(clock)},
          nullptr) {}

MemoryMarker::MemoryMarker(MarkerOptions options, std::shared_ptr<MemoryMarkerStore> store)
    : options_(Completed(std::move(options))),
      store_(store != nullptr ? std::move(store) : std::make_shared<MemoryMarkerStore>()) {}

std::optional<MarkInfo> MemoryMarker::Judged(const MemoryMarkerStore::Entry& entry) const {
  if (!entry.marked) return std::nullopt;
  MarkInfo mark = entry.mark;
  JudgeMark(&mark, options_.clock->NowUnixMillis(), options_.ttl_ms);
  return mark;
}

Status MemoryMarker::Mark(std::string_view id, const Window& window) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  MemoryMarkerStore::Entry& entry = store_->entries_[std::string(id)];
  std::optional<MarkInfo> current = Judged(entry);
  if (current && current->state == MarkState::kInProgress) {
    return AlreadyExistsError("digest " + std::string(id) + " is in progress");
  }
  entry = {.marked = true,
           .mark = NewMark(window, MarkPhase::kQueued, *options_.owner,
                           options_.clock->NowUnixMillis(), options_.heartbeat_ms)};
  return OkStatus();
}

Status MemoryMarker::Claim(std::string_view id, const Window& window) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  MemoryMarkerStore::Entry& entry = store_->entries_[std::string(id)];
  std::optional<MarkInfo> current = Judged(entry);
  if (current && !MayClaim(*current, *options_.owner)) {
    return AlreadyExistsError("digest " + std::string(id) + " is running elsewhere");
  }
  entry = {.marked = true,
           .mark = NewMark(window, MarkPhase::kRunning, *options_.owner,
                           options_.clock->NowUnixMillis(), options_.heartbeat_ms)};
  return OkStatus();
}

Status MemoryMarker::Refresh(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  auto it = store_->entries_.find(id);
  if (it == store_->entries_.end() || !it->second.marked) {
    return NotFoundError("no in-progress marker for " + std::string(id));
  }
  MarkInfo& mark = it->second.mark;
  if (!HeldBy(mark, *options_.owner)) {
    return FailedPreconditionError("the marker of " + std::string(id) + " has another holder");
  }
  mark.written_unix_ms = options_.clock->NowUnixMillis();
  mark.heartbeat_ms = options_.heartbeat_ms;
  return OkStatus();
}

Status MemoryMarker::Unmark(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  auto it = store_->entries_.find(id);
  if (it != store_->entries_.end()) it->second.marked = false;
  return OkStatus();
}

Status MemoryMarker::Fail(std::string_view id, std::string_view reason) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  store_->entries_[std::string(id)] = {
      .failed = true, .failed_ms = options_.clock->NowUnixMillis(), .failure = std::string(reason)};
  return OkStatus();
}

Result<MarkInfo> MemoryMarker::State(std::string_view id) {
  VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
  std::lock_guard lock(store_->mu_);
  MarkInfo info;
  auto it = store_->entries_.find(id);
  if (it == store_->entries_.end()) return info;
  const MemoryMarkerStore::Entry& entry = it->second;
  if (std::optional<MarkInfo> mark = Judged(entry)) return *std::move(mark);
  if (entry.failed) {
    info.state = MarkState::kFailed;
    info.written_unix_ms = entry.failed_ms;
    info.failure = entry.failure;
  }
  return info;
}

Result<std::vector<MarkedDigest>> MemoryMarker::List() {
  std::lock_guard lock(store_->mu_);
  std::vector<MarkedDigest> out;
  for (const auto& [id, entry] : store_->entries_) {
    if (std::optional<MarkInfo> mark = Judged(entry)) out.push_back({.id = id, .info = *mark});
  }
  return out;
}

size_t MemoryMarker::marker_count() const {
  std::lock_guard lock(store_->mu_);
  size_t n = 0;
  for (const auto& [id, entry] : store_->entries_) n += entry.marked ? 1 : 0;
  return n;
}

}  // namespace vpcflow
