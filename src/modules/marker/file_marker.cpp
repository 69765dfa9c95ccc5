#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "modules/marker/mark_record.hpp"
#include "modules/posix_file.hpp"
#include "modules/text_format.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {
namespace {

constexpr std::string_view kMarkerSuffix = "_in_progress";

class FileMarker final : public Marker {
 public:
  FileMarker(std::string dir, MarkerOptions options)
      : dir_(std::move(dir)), options_(std::move(options)), owner_(*options_.owner) {}

  Status Mark(std::string_view id, const Window& window) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    VPCFLOW_ASSIGN_OR_RETURN(std::optional<MarkInfo> current, Read(id));
    if (current && current->state == MarkState::kInProgress) {
      return AlreadyExistsError("digest " + std::string(id) + " is in progress since " +
                                FormatRfc3339Millis(current->written_unix_ms));
    }
    VPCFLOW_RETURN_IF_ERROR(Write(id, window, MarkPhase::kQueued, current.has_value()));
    return RemoveIfExists(FailedPath(id));
  }

  Status Claim(std::string_view id, const Window& window) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    VPCFLOW_ASSIGN_OR_RETURN(std::optional<MarkInfo> current, Read(id));
    if (current && !MayClaim(*current, owner_)) {
      return AlreadyExistsError("digest " + std::string(id) + " is running elsewhere");
    }
    VPCFLOW_RETURN_IF_ERROR(Write(id, window, MarkPhase::kRunning, current.has_value()));
    return RemoveIfExists(FailedPath(id));
  }

  Status Refresh(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    VPCFLOW_ASSIGN_OR_RETURN(std::optional<MarkInfo> current, Read(id));
    if (!current) return NotFoundError("no in-progress marker for " + std::string(id));
    if (!HeldBy(*current, owner_)) {
      return FailedPreconditionError("the marker of " + std::string(id) + " has another holder");
    }
    current->written_unix_ms = options_.clock->NowUnixMillis();
    current->heartbeat_ms = options_.heartbeat_ms;
    VPCFLOW_ASSIGN_OR_RETURN(std::string temp, WriteTemp(id, *current));
    return RenameInto(temp, MarkerPath(id));
  }

  Status Unmark(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    {
      VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
      VPCFLOW_RETURN_IF_ERROR(RemoveIfExists(MarkerPath(id)));
    }
    (void)RemoveStaleTempFiles(dir_);  // a job ended: what killed writers left
    return OkStatus();
  }

  Status Fail(std::string_view id, std::string_view reason) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    {
      VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
      VPCFLOW_ASSIGN_OR_RETURN(std::string temp,
                               WriteTempFile(dir_, std::string(id) + "_failed", reason,
                                             options_.clock->NowUnixMillis()));
      VPCFLOW_RETURN_IF_ERROR(RenameInto(temp, FailedPath(id)));
      VPCFLOW_RETURN_IF_ERROR(RemoveIfExists(MarkerPath(id)));
    }
    (void)RemoveStaleTempFiles(dir_);
    return OkStatus();
  }

  // Lock-free: every file is replaced whole (rename/link), so a reader sees an old or a new one.
  Result<MarkInfo> State(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_ASSIGN_OR_RETURN(std::optional<MarkInfo> current, Read(id));
    if (current) return *std::move(current);
    MarkInfo info;
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

  Result<std::vector<MarkedDigest>> List() override {
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir_.c_str()), &::closedir);
    if (listing == nullptr) return ErrnoStatus("list " + dir_, errno);
    std::vector<std::string> ids;
    while (const dirent* entry = ::readdir(listing.get())) {
      std::string_view name = entry->d_name;
      if (!name.ends_with(kMarkerSuffix)) continue;
      name.remove_suffix(kMarkerSuffix.size());
      if (ValidateDigestId(name).ok()) ids.emplace_back(name);
    }
    std::vector<MarkedDigest> out;
    for (std::string& id : ids) {
      VPCFLOW_ASSIGN_OR_RETURN(std::optional<MarkInfo> mark, Read(id));
      if (mark) out.push_back({.id = std::move(id), .info = *std::move(mark)});
    }
    return out;
  }

  Status Ready() override {
    VPCFLOW_ASSIGN_OR_RETURN(UniqueFd lock, LockDirectory());
    return CheckWritable(dir_);
  }

  std::string Describe() const override { return "dir:" + dir_; }

 private:
  std::string MarkerPath(std::string_view id) const {
    return dir_ + "/" + std::string(id) + std::string(kMarkerSuffix);
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

  // The judged marker, nullopt when there is none. A body that is neither JSON nor a time (a
  // marker written by hand or half-written by another tool) counts as written at its mtime.
  Result<std::optional<MarkInfo>> Read(std::string_view id) const {
    const std::string path = MarkerPath(id);
    Result<std::string> body = ReadWholeFile(path);
    if (!body.ok()) {
      if (IsNotFound(body.status())) return std::optional<MarkInfo>();
      return body.status();
    }
    std::optional<MarkInfo> mark = DecodeMarkBody(*body);
    if (!mark) {
      Result<int64_t> mtime = FileMtimeMillis(path);
      if (!mtime.ok()) {
        if (IsNotFound(mtime.status())) return std::optional<MarkInfo>();
        return mtime.status();
      }
      mark = MarkInfo{.state = MarkState::kInProgress, .written_unix_ms = *mtime};
    }
    JudgeMark(&*mark, options_.clock->NowUnixMillis(), options_.ttl_ms);
    return mark;
  }

  // Publishes a new marker of this owner. Under the lock nobody else changes the marker; link()
  // still refuses to overwrite one that a writer outside this protocol created, rename()
  // replaces the one we checked.
  Status Write(std::string_view id, const Window& window, MarkPhase phase, bool replace) {
    const MarkInfo mark =
        NewMark(window, phase, owner_, options_.clock->NowUnixMillis(), options_.heartbeat_ms);
    VPCFLOW_ASSIGN_OR_RETURN(std::string temp, WriteTemp(id, mark));
    const std::string marker = MarkerPath(id);
    int rc =
        replace ? ::rename(temp.c_str(), marker.c_str()) : ::link(temp.c_str(), marker.c_str());
    int err = errno;
    ::unlink(temp.c_str());
    if (rc == 0) return OkStatus();
    if (err == EEXIST) return AlreadyExistsError("digest " + std::string(id) + " is in progress");
    return ErrnoStatus("create " + marker, err);
  }

  Result<std::string> WriteTemp(std::string_view id, const MarkInfo& mark) const {
    return WriteTempFile(dir_, std::string(id) + std::string(kMarkerSuffix), EncodeMarkBody(mark),
                         mark.written_unix_ms);
  }

  static Status RenameInto(const std::string& temp, const std::string& path) {
    if (::rename(temp.c_str(), path.c_str()) == 0) return OkStatus();
    Status status = ErrnoStatus("rename to " + path, errno);
    ::unlink(temp.c_str());
    return status;
  }

  const std::string dir_;
  const MarkerOptions options_;
  const MarkOwner owner_;
};

}  // namespace

Result<MarkerPtr> NewFileMarker(std::string dir, MarkerOptions options) {
  if (dir.empty()) return InvalidArgumentError("progress directory is empty");
  VPCFLOW_ASSIGN_OR_RETURN(options, CompleteMarkerOptions(std::move(options), "progress store"));
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  VPCFLOW_RETURN_IF_ERROR(MakeDirectories(dir).WithContext("progress store"));
  VPCFLOW_RETURN_IF_ERROR(RemoveStaleTempFiles(dir).status().WithContext("progress store"));
  return MarkerPtr(std::make_unique<FileMarker>(std::move(dir), std::move(options)));
}

}  // namespace vpcflow
