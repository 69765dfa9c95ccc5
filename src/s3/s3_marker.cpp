// S3Marker: in-progress markers and failure records as objects (s3_modules.hpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "modules/marker/mark_record.hpp"
#include "modules/text_format.hpp"
#include "s3/s3_modules.hpp"

namespace vpcflow {
namespace {

constexpr std::string_view kMarkerSuffix = "_in_progress";

// Mark() re-reads and retries when the marker vanishes or changes between its steps; this many
// rounds at most (each round means another writer made progress).
constexpr int kMarkRounds = 8;

class S3Marker final : public Marker {
 public:
  S3Marker(std::shared_ptr<S3Client> client, std::string bucket, std::string prefix,
           MarkerOptions options)
      : client_(std::move(client)),
        bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        options_(std::move(options)),
        owner_(*options_.owner) {}

  // Checks whether the server honours If-None-Match on PUT (and that the bucket is writable).
  Result<bool> ProbeConditionalPut() {
    const std::string key = prefix_ + ".vpcflow-probe-" + NewInstanceId();
    VPCFLOW_RETURN_IF_ERROR(client_->PutObject(bucket_, key, "probe", {.if_none_match = true}));
    Status second = client_->PutObject(bucket_, key, "probe", {.if_none_match = true});
    Status cleanup = client_->DeleteObject(bucket_, key);
    if (second.ok()) return false;
    if (second.code() != StatusCode::kAlreadyExists) return second;
    VPCFLOW_RETURN_IF_ERROR(cleanup);
    return true;
  }

  void set_atomic(bool atomic) { atomic_ = atomic; }

  Status Mark(std::string_view id, const Window& window) override {
    return Take(id, window, MarkPhase::kQueued,
                [](const MarkInfo& current) { return current.state != MarkState::kInProgress; });
  }

  Status Claim(std::string_view id, const Window& window) override {
    return Take(id, window, MarkPhase::kRunning,
                [this](const MarkInfo& current) { return MayClaim(current, owner_); });
  }

  Status Refresh(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string key = MarkerKey(id);
    // A conditional write that lost to another one is judged again from what is there now:
    // the marker this process's runner rewrote meanwhile (Claim) is refreshed, and the one it
    // removed (the job ended; RGW answers 412, S3 404) is NotFound, not "another holder" (which
    // made the keeper warn of a takeover that never happened: make soak).
    for (int round = 0; round < kMarkRounds; ++round) {
      VPCFLOW_ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
      if (!current) return NotFoundError("no marker for " + std::string(id));
      if (!HeldBy(current->mark, owner_)) {
        return FailedPreconditionError("the marker of " + std::string(id) + " has another holder");
      }
      current->mark.written_unix_ms = options_.clock->NowUnixMillis();
      current->mark.heartbeat_ms = options_.heartbeat_ms;
      Status written = client_->PutObject(bucket_, key, EncodeMarkBody(current->mark),
                                          {.if_match = atomic_ ? current->etag : ""});
      if (written.code() != StatusCode::kFailedPrecondition &&
          written.code() != StatusCode::kNotFound) {
        return written.WithContext("refresh " + Named(id));
      }
    }
    return UnavailableError("refresh " + Named(id) + ": the marker kept changing; try again");
  }

  Status Unmark(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    return client_->DeleteObject(bucket_, MarkerKey(id));
  }

  Status Fail(std::string_view id, std::string_view reason) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    // The record: the time it was written on the first line, then the reason.
    VPCFLOW_RETURN_IF_ERROR(client_->PutObject(bucket_, FailedKey(id),
                                               Now() + "\n" + std::string(reason),
                                               {.content_type = "text/plain"}));
    return client_->DeleteObject(bucket_, MarkerKey(id));
  }

  Result<MarkInfo> State(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(std::optional<Current> current, Read(MarkerKey(id)));
    if (current) return std::move(current->mark);
    MarkInfo info;
    Result<S3GetResult> failed = client_->GetObject(bucket_, FailedKey(id));
    if (!failed.ok()) {
      if (failed.status().code() == StatusCode::kNotFound) return info;
      return failed.status();
    }
    info.state = MarkState::kFailed;
    const std::string& body = failed->body;
    const size_t newline = body.find('\n');
    if (newline == std::string::npos) {
      info.failure = body;  // not written by this marker: all of it is the reason
    } else {
      info.written_unix_ms = ParseRfc3339Millis(body.substr(0, newline)).value_or(0);
      info.failure = body.substr(newline + 1);
    }
    return info;
  }

  // One LIST of the markers' level of the bucket (delimiter "/": nothing below it), then a GET
  // of each marker (its body says who holds it).
  Result<std::vector<MarkedDigest>> List() override {
    std::vector<std::string> ids;
    ListRequest request{.prefix = prefix_, .delimiter = "/"};
    do {
      VPCFLOW_ASSIGN_OR_RETURN(ListPage page, client_->ListObjectsV2(bucket_, request));
      for (const ObjectInfo& object : page.objects) {
        std::string_view name = std::string_view(object.key).substr(prefix_.size());
        if (!name.ends_with(kMarkerSuffix)) continue;
        name.remove_suffix(kMarkerSuffix.size());
        if (ValidateDigestId(name).ok()) ids.emplace_back(name);
      }
      request.continuation_token = std::move(page.next_token);
    } while (!request.continuation_token.empty());
    std::vector<MarkedDigest> out;
    for (std::string& id : ids) {
      VPCFLOW_ASSIGN_OR_RETURN(std::optional<Current> current, Read(MarkerKey(id)));
      if (current) out.push_back({.id = std::move(id), .info = std::move(current->mark)});
    }
    return out;
  }

  Status Ready() override { return client_->HeadBucket(bucket_); }

  std::string Describe() const override {
    return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_) +
           (atomic_ ? "" : " (non-atomic marks: the server ignores If-None-Match)");
  }

 private:
  struct Current {
    MarkInfo mark;  // judged
    std::string etag;
  };

  std::string MarkerKey(std::string_view id) const {
    return prefix_ + std::string(id) + std::string(kMarkerSuffix);
  }
  std::string FailedKey(std::string_view id) const { return prefix_ + std::string(id) + "_failed"; }
  std::string Named(std::string_view id) const { return "digest " + std::string(id); }
  std::string Now() const { return FormatRfc3339Millis(options_.clock->NowUnixMillis()); }

  std::string NewBody(const Window& window, MarkPhase phase) const {
    return EncodeMarkBody(
        NewMark(window, phase, owner_, options_.clock->NowUnixMillis(), options_.heartbeat_ms));
  }

  // Writes this owner's marker in `phase` unless a current marker exists that `may_replace`
  // refuses (AlreadyExists). Creates with "If-None-Match: *" and replaces with "If-Match: <the
  // ETag judged>", so of racing writers exactly one wins.
  template <typename MayReplace>
  Status Take(std::string_view id, const Window& window, MarkPhase phase, MayReplace may_replace) {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string key = MarkerKey(id);
    for (int round = 0; round < kMarkRounds; ++round) {
      if (!atomic_) {
        VPCFLOW_ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
        if (current && !may_replace(current->mark)) {
          return AlreadyExistsError(Named(id) + " is in progress");
        }
        VPCFLOW_RETURN_IF_ERROR(client_->PutObject(bucket_, key, NewBody(window, phase)));
        return ClearFailure(id);
      }
      Status created =
          client_->PutObject(bucket_, key, NewBody(window, phase), {.if_none_match = true});
      if (created.ok()) return ClearFailure(id);
      if (created.code() != StatusCode::kAlreadyExists) return created.WithContext(Named(id));
      VPCFLOW_ASSIGN_OR_RETURN(std::optional<Current> current, Read(key));
      if (!current) continue;  // removed meanwhile: try to create again
      if (!may_replace(current->mark)) return AlreadyExistsError(Named(id) + " is in progress");
      // Replace it only if it is still the one judged, so one racer wins.
      Status replaced =
          client_->PutObject(bucket_, key, NewBody(window, phase), {.if_match = current->etag});
      if (replaced.ok()) return ClearFailure(id);
      if (replaced.code() == StatusCode::kFailedPrecondition ||
          replaced.code() == StatusCode::kAlreadyExists) {
        return AlreadyExistsError(Named(id) + " was taken over by another worker");
      }
      if (replaced.code() != StatusCode::kNotFound) return replaced.WithContext(Named(id));
    }
    return UnavailableError(Named(id) + ": the marker kept changing; try again");
  }

  // The judged marker, or nullopt when there is none. A body that is neither this service's
  // JSON nor an RFC 3339 time counts as written at the epoch (so it is stale and gets replaced).
  Result<std::optional<Current>> Read(const std::string& key) {
    Result<S3GetResult> got = client_->GetObject(bucket_, key);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Current>();
      return got.status();
    }
    MarkInfo mark = DecodeMarkBody(got->body).value_or(MarkInfo{});
    JudgeMark(&mark, options_.clock->NowUnixMillis(), options_.ttl_ms);
    return std::optional<Current>(Current{.mark = std::move(mark), .etag = std::move(got->etag)});
  }

  Status ClearFailure(std::string_view id) { return client_->DeleteObject(bucket_, FailedKey(id)); }

  const std::shared_ptr<S3Client> client_;
  const std::string bucket_;
  const std::string prefix_;
  const MarkerOptions options_;
  const MarkOwner owner_;
  bool atomic_ = true;
};

}  // namespace

Result<MarkerPtr> NewS3Marker(std::shared_ptr<S3Client> client, std::string bucket,
                              MarkerOptions options, std::string prefix, bool* atomic) {
  if (client == nullptr) return InvalidArgumentError("S3 marker: no client");
  if (bucket.empty()) return InvalidArgumentError("S3 marker: no bucket");
  VPCFLOW_ASSIGN_OR_RETURN(options, CompleteMarkerOptions(std::move(options), "S3 marker"));
  auto marker = std::make_unique<S3Marker>(std::move(client), std::move(bucket), std::move(prefix),
                                           std::move(options));
  Result<bool> conditional = marker->ProbeConditionalPut();
  if (!conditional.ok()) {
    return conditional.status().WithContext("S3 marker " + marker->Describe());
  }
  marker->set_atomic(*conditional);
  if (atomic != nullptr) *atomic = *conditional;
  return MarkerPtr(std::move(marker));
}

}  // namespace vpcflow
