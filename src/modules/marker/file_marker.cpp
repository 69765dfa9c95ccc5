#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "modules/posix_file.hpp"
#include "modules/text_format.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

std::string_view MarkStateName(MarkState state) {
  switch (state) {
    case MarkState::kAbsent:
      return "absent";
    case MarkState::kInProgress:
      return "in_progress";
    case MarkState::kStale:
      return "stale";
    case MarkState::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

class FileMarker final : public Marker {
 public:
  FileMarker(std::string dir, int64_t ttl_ms, ClockPtr clock)
      : dir_(std::move(dir)), ttl_ms_(ttl_ms), clock_(std::move(clock)) {}

  Status Mark(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    std::string marker = MarkerPath(id);
    int64_t now = clock_->NowUnixMillis();
    ASSIGN_OR_RETURN(std::optional<int64_t> written, MarkerTime(marker));
    if (written && now < *written + ttl_ms_) {
      return AlreadyExistsError("digest " + std::string(id) + " is in progress since " +
                                FormatRfc3339Millis(*written));
    }
    ASSIGN_OR_RETURN(std::string temp, WriteMarkerTemp(id, now));
    // Under the lock nobody else changes the marker; link() still refuses to overwrite one that
    // a writer outside this protocol created, rename() replaces the stale one we checked.
    int rc =
        written ? ::rename(temp.c_str(), marker.c_str()) : ::link(temp.c_str(), marker.c_str());
    int err = errno;
    ::unlink(temp.c_str());
    if (rc != 0) {
      if (err == EEXIST) return AlreadyExistsError("digest " + std::string(id) + " is in progress");
      return ErrnoStatus("create " + marker, err);
    }
    return RemoveIfExists(FailedPath(id));
  }

  Status Refresh(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    std::string marker = MarkerPath(id);
    if (::access(marker.c_str(), F_OK) != 0) {
      if (errno == ENOENT) return NotFoundError("no in-progress marker for " + std::string(id));
      return ErrnoStatus("stat " + marker, errno);
    }
    ASSIGN_OR_RETURN(std::string temp, WriteMarkerTemp(id, clock_->NowUnixMillis()));
    return RenameInto(temp, marker);
  }

  Status Unmark(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    return RemoveIfExists(MarkerPath(id));
  }

  Status Fail(std::string_view id, std::string_view reason) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    ASSIGN_OR_RETURN(std::string temp, WriteTempFile(dir_, std::string(id) + "_failed", reason,
                                                     clock_->NowUnixMillis()));
    RETURN_IF_ERROR(RenameInto(temp, FailedPath(id)));
    return RemoveIfExists(MarkerPath(id));
  }

  // Lock-free: every file is replaced whole (rename/link), so a reader sees an old or a new one.
  Result<MarkInfo> State(std::string_view id) override {
    RETURN_IF_ERROR(ValidateDigestId(id));
    MarkInfo info;
    ASSIGN_OR_RETURN(std::optional<int64_t> written, MarkerTime(MarkerPath(id)));
    if (written) {
      bool live = clock_->NowUnixMillis() < *written + ttl_ms_;
      info.state = live ? MarkState::kInProgress : MarkState::kStale;
      info.written_unix_ms = *written;
      return info;
    }
    std::string failed = FailedPath(id);
    Result<std::string> reason = ReadWholeFile(failed);
    if (!reason.ok()) {
      if (IsNotFound(reason.status())) return info;
      return reason.status();
    }
    Result<int64_t> mtime = FileMtimeMillis(failed);
    info.state = MarkState::kFailed;
    info.written_unix_ms = mtime.ok() ? *mtime : 0;
    info.failure = std::move(reason).value();
    return info;
  }

  Status Ready() override {
    ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    return CheckWritable(dir_);
  }

  std::string Describe() const override { return "dir:" + dir_; }

 private:
  std::string MarkerPath(std::string_view id) const {
    return dir_ + "/" + std::string(id) + "_in_progress";
  }
  std::string FailedPath(std::string_view id) const {
    return dir_ + "/" + std::string(id) + "_failed";
  }

  // Each call opens its own file description, so flock() also excludes the other threads of
  // this process; the lock is released when the descriptor closes, or when the process dies.
  Result<UniqueFd> LockDirectory() const {
    std::string path = dir_ + "/.lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus("open " + path, errno);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoStatus("lock " + path, errno);
    }
    return fd;
  }

  // The marker's time: its body, else its mtime (a marker written by hand or half-written by
  // another tool); nullopt when there is no marker.
  Result<std::optional<int64_t>> MarkerTime(const std::string& path) const {
    Result<std::string> body = ReadWholeFile(path);
    if (!body.ok()) {
      if (IsNotFound(body.status())) return std::optional<int64_t>();
      return body.status();
    }
    std::string_view text = *body;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
      text.remove_suffix(1);
    }
    if (std::optional<int64_t> parsed = ParseRfc3339Millis(text)) return parsed;
    Result<int64_t> mtime = FileMtimeMillis(path);
    if (!mtime.ok()) {
      if (IsNotFound(mtime.status())) return std::optional<int64_t>();
      return mtime.status();
    }
    return std::optional<int64_t>(*mtime);
  }

  Result<std::string> WriteMarkerTemp(std::string_view id, int64_t now) const {
    return WriteTempFile(dir_, std::string(id) + "_in_progress", FormatRfc3339Millis(now), now);
  }

  static Status RenameInto(const std::string& temp, const std::string& path) {
    if (::rename(temp.c_str(), path.c_str()) == 0) return OkStatus();
    Status status = ErrnoStatus("rename to " + path, errno);
    ::unlink(temp.c_str());
    return status;
  }

  const std::string dir_;
  const int64_t ttl_ms_;
  const ClockPtr clock_;
};

}  // namespace

Result<MarkerPtr> NewFileMarker(std::string dir, int64_t ttl_ms, ClockPtr clock) {
  if (dir.empty()) return InvalidArgumentError("progress directory is empty");
  if (ttl_ms <= 0) {
    return InvalidArgumentError("progress timeout must be positive, got " + std::to_string(ttl_ms) +
                                " ms");
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  RETURN_IF_ERROR(MakeDirectories(dir).WithContext("progress store"));
  if (clock == nullptr) clock = SystemClock();
  return MarkerPtr(std::make_unique<FileMarker>(std::move(dir), ttl_ms, std::move(clock)));
}

}  // namespace vpcflow
