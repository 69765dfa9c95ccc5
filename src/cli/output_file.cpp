#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <optional>
#include <system_error>

#include "cli/interrupt.hpp"
#include "common/errno_status.hpp"
#include "common/parallel_gzip_sink.hpp"
#include "modules/posix_file.hpp"

namespace vpcflow {
namespace {

// Linux follows at most 40 links in one path resolution (path_resolution(7)).
constexpr int kMaxLinks = 40;

Status OutputError(const Status& status) { return status.WithContext("--output"); }

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Where the bytes for `path` go: a file to replace (existing or not), or `path` itself when it
// is not a regular file.
struct Target {
  bool in_place = false;
  std::string path;                 // the file to replace (links resolved), or the path given
  std::optional<struct stat> file;  // the existing regular file, if any
  int own_fd = -1;                  // in place: a descriptor of this process it names
};

// N for "/proc/<our pid>/fd/N" (where /dev/stdout, /dev/fd/N and /proc/self/fd/N lead), else -1.
int OwnDescriptor(std::string_view path) {
  const std::string prefix = "/proc/" + std::to_string(::getpid()) + "/fd/";
  if (!path.starts_with(prefix)) return -1;
  int fd = -1;
  const std::string_view digits = path.substr(prefix.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
  return ec == std::errc() && end == digits.data() + digits.size() ? fd : -1;
}

Result<Target> Resolve(const std::string& path) {
  std::string current = path;
  for (int links = 0; links <= kMaxLinks; ++links) {
    struct stat st;
    if (::lstat(current.c_str(), &st) != 0) {
      if (errno != ENOENT) return ErrnoStatus("\"" + current + "\"", errno);
      struct stat dir;
      const std::string parent = DirectoryOf(current);
      if (::stat(parent.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)) {
        return InvalidArgumentError("directory \"" + parent + "\" does not exist");
      }
      return Target{.in_place = false, .path = current, .file = std::nullopt};
    }
    if (S_ISREG(st.st_mode)) return Target{.in_place = false, .path = current, .file = st};
    if (S_ISDIR(st.st_mode)) return InvalidArgumentError("\"" + path + "\" names a directory");
    if (!S_ISLNK(st.st_mode)) return Target{.in_place = true, .path = path, .file = std::nullopt};
    // /dev/stdout, /dev/fd/N, /proc/self/fd/N: links in /proc lead to open files, not names.
    char dir[PATH_MAX];
    if (::realpath(DirectoryOf(current).c_str(), dir) != nullptr &&
        std::string_view(dir).starts_with("/proc/")) {
      return Target{.in_place = true,
                    .path = path,
                    .file = std::nullopt,
                    .own_fd = OwnDescriptor(std::string(dir) + "/" + BaseName(current))};
    }
    std::string link(PATH_MAX, '\0');
    const ssize_t n = ::readlink(current.c_str(), link.data(), link.size());
    if (n < 0) return ErrnoStatus("read link \"" + current + "\"", errno);
    if (static_cast<size_t>(n) >= link.size()) {
      return InvalidArgumentError("link \"" + current + "\" is too long");
    }
    link.resize(static_cast<size_t>(n));
    if (link.starts_with('/')) {
      current = std::move(link);
    } else {
      current = DirectoryOf(current).append("/").append(link);
    }
  }
  return InvalidArgumentError("\"" + path + "\": too many levels of symbolic links");
}

// Gives the temporary file the existing file's owner, group and permission bits. The owner
// and group are kept where the process may set them (root, or a group it belongs to), as
// `sed -i` does; the mode last, since a change of owner clears the set-id bits.
Status CopyOwnerAndMode(int fd, const struct stat& file, const std::string& name) {
  if (::fchown(fd, file.st_uid, file.st_gid) != 0) (void)::fchown(fd, -1, file.st_gid);
  if (::fchmod(fd, file.st_mode & 07777) != 0) return ErrnoStatus("set the mode of " + name, errno);
  return OkStatus();
}

}  // namespace

OutputFile::~OutputFile() { Discard(); }

Status OutputFile::Open(const std::string& path) {
  if (mode_ != Mode::kNone) return FailedPreconditionError("--output: opened twice");
  if (path.empty() || path == "-") {
    mode_ = Mode::kStdout;
    file_ = NewStdioSink(stdout);
    return OkStatus();
  }
  if (path.ends_with('/'))
    return InvalidArgumentError("--output: \"" + path + "\" names a directory");
  Result<Target> target = Resolve(path);
  if (!target.ok()) return OutputError(target.status());
  target_ = target->path;
  if (target->in_place) {
    // One of our own descriptors (--output /dev/stdout) is written as it is, with its offset
    // and append mode (`>>`), as the shell opened it. Anything else is opened; O_TRUNC only
    // matters for a regular file reached through /proc (FIFOs and devices ignore it), and
    // O_NOCTTY keeps a terminal from becoming the controlling one.
    const int fd = target->own_fd >= 0
                       ? ::fcntl(target->own_fd, F_DUPFD_CLOEXEC, 0)
                       : ::open(path.c_str(), O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return OutputError(ErrnoStatus("cannot open \"" + path + "\"", errno));
    Result<ByteSinkPtr> file = NewFdSink(fd, path);
    if (!file.ok()) return OutputError(file.status());
    file_ = std::move(file).value();
    mode_ = Mode::kInPlace;
  } else {
    const std::string dir = DirectoryOf(target_);
    const std::string temporary = UniqueTempPath(dir, BaseName(target_));
    // Registered before it exists: no moment where the file exists unknown to the handler.
    if (Status st = RegisterTemporaryFile(temporary); !st.ok()) return OutputError(st);
    // The content of a file being replaced never sits in a more open file: start from 0600.
    const mode_t create_mode = target->file ? 0600 : 0666;
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, create_mode);
    if (fd < 0) {
      const int err = errno;
      ClearTemporaryFile();
      return OutputError(ErrnoStatus("cannot create a file in \"" + dir + "\"", err));
    }
    temporary_ = temporary;
    mode_ = Mode::kReplace;
    Status st = target->file ? CopyOwnerAndMode(fd, *target->file, temporary_) : OkStatus();
    if (!st.ok()) {
      ::close(fd);
      Discard();
      return OutputError(st);
    }
    Result<ByteSinkPtr> file = NewFdSink(fd, temporary_, /*sync_on_close=*/true);
    if (!file.ok()) {
      Discard();
      return OutputError(file.status());
    }
    file_ = std::move(file).value();
  }
  // Deflated on every core (one gzip member; the bytes do not depend on the threads).
  if (path.ends_with(".gz")) gzip_ = NewParallelGzipSink(file_.get(), {.level = 1});
  return OkStatus();
}

Status OutputFile::Commit() {
  if (!file_) return FailedPreconditionError("--output: not open");
  // Closing the gzip stream closes the file too; closing twice returns the first outcome.
  Status st = gzip_ ? gzip_->Close() : OkStatus();
  if (Status closed = file_->Close(); st.ok()) st = std::move(closed);
  if (st.ok() && mode_ == Mode::kReplace && ::rename(temporary_.c_str(), target_.c_str()) != 0) {
    st = ErrnoStatus("cannot rename the output into \"" + target_ + "\"", errno);
  }
  if (!st.ok()) {
    Discard();
    return st;
  }
  if (mode_ == Mode::kReplace) ClearTemporaryFile();
  temporary_.clear();
  gzip_.reset();
  file_.reset();
  return OkStatus();
}

void OutputFile::Discard() {
  // The gzip stream is dropped unfinished: a reader of a FIFO or of stdout then sees a
  // truncated stream, never a well-formed one that lacks data.
  gzip_.reset();
  if (file_) (void)file_->Close();
  file_.reset();
  if (temporary_.empty()) return;
  ::unlink(temporary_.c_str());
  ClearTemporaryFile();
  temporary_.clear();
}

}  // namespace vpcflow
