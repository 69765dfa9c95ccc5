#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "common/errno_status.hpp"
#include "common/list_page_builder.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {

namespace {

// Reads smaller than this are served from an internal buffer so that the file is still read
// in large chunks; larger reads go straight into the caller's buffer.
constexpr size_t kDirectReadBytes = size_t{64} * 1024;
constexpr size_t kReadBufferBytes = size_t{256} * 1024;

// A path segment that can be part of a listed key: not empty, not hidden (which also excludes
// "." and "..", so a key can never leave the root).
bool IsListableName(std::string_view name) { return !name.empty() && name.front() != '.'; }

bool IsValidKey(std::string_view key) {
  if (key.empty()) return false;
  size_t begin = 0;
  for (;;) {
    const size_t slash = key.find('/', begin);
    const std::string_view segment = key.substr(begin, slash - begin);
    if (!IsListableName(segment)) return false;
    if (slash == std::string_view::npos) return true;
    begin = slash + 1;
  }
}

class FileReader final : public ObjectReader {
 public:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileReader() override { ::close(fd_); }

  Result<size_t> Read(std::span<char> buffer) override {
    if (buffer.empty()) return size_t{0};
    if (buffer.size() >= kDirectReadBytes && begin_ == end_) return ReadFile(buffer);
    if (begin_ == end_) {
      if (buf_ == nullptr) buf_.reset(new char[kReadBufferBytes]);
      Result<size_t> n = ReadFile(std::span<char>(buf_.get(), kReadBufferBytes));
      if (!n.ok() || *n == 0) return n;
      begin_ = 0;
      end_ = *n;
    }
    const size_t n = std::min(buffer.size(), end_ - begin_);
    std::memcpy(buffer.data(), buf_.get() + begin_, n);
    begin_ += n;
    return n;
  }

 private:
  Result<size_t> ReadFile(std::span<char> buffer) {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus("read " + path_, errno);
    }
  }

  int fd_;
  std::string path_;
  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// pread on a descriptor opened once: the file's inode is pinned, so a file replaced by a rename
// meanwhile is still read as it was.
class FileRandomAccess final : public RandomAccessObject {
 public:
  FileRandomAccess(int fd, uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileRandomAccess() override { ::close(fd_); }

  uint64_t size() const override { return size_; }

  Status ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset > size_ || out.size() > size_ - offset) {
      return InvalidArgumentError("read past the end of " + path_);
    }
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("read " + path_, errno);
      if (n == 0) return DataLossError(path_ + " became shorter while it was read");
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

 private:
  int fd_;
  uint64_t size_;
  std::string path_;
};

std::string ErrorText(int err) { return std::error_code(err, std::generic_category()).message(); }

// What a directory entry that is not a regular file or folder is, for ObjectInfo::problem.
std::string Kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// A directory being walked, to recognise a link back to it.
struct DirId {
  dev_t dev;
  ino_t ino;
  bool operator==(const DirId&) const = default;
};

class LocalDirSource final : public ObjectSource {
 public:
  LocalDirSource(std::string root, std::string real_root, LocalDirOptions options)
      : root_(std::move(root)), real_root_(std::move(real_root)), options_(options) {}

  Result<ListPage> List(const ListRequest& request) override {
    ListPageBuilder builder(request);
    // Every key with the prefix lies under the prefix's folder part: start the walk there.
    const std::string_view prefix = request.prefix;
    const size_t slash = prefix.rfind('/');
    const std::string_view folder =
        slash == std::string_view::npos ? std::string_view() : prefix.substr(0, slash + 1);
    if (!folder.empty() && !IsValidKey(folder.substr(0, folder.size() - 1))) {
      return std::move(builder).Finish();  // no file can have such a key
    }
    std::string path = root_;
    bool missing = false;
    if (!folder.empty()) {
      path += "/" + std::string(folder.substr(0, folder.size() - 1));
      // Below the root, the walk only enters links it may follow; the folder it starts in is
      // checked the same way.
      missing = !Resolve(path).ok();
    }
    std::vector<DirId> ancestors;
    if (!missing) missing = !FoldersAbove(folder, &ancestors);
    if (!missing)
      VPCFLOW_RETURN_IF_ERROR(Walk(path, std::string(folder), builder, &missing, ancestors));
    // A missing folder is an empty listing; a missing root is an error.
    if (missing && !IsDirectory(root_)) {
      return NotFoundError(Describe() + ": the root is not a directory");
    }
    return std::move(builder).Finish();
  }

  Result<ObjectReaderPtr> Open(std::string_view key) override {
    VPCFLOW_ASSIGN_OR_RETURN(OpenFile file, OpenRegular(key));
    ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return ObjectReaderPtr(std::make_unique<FileReader>(file.fd, std::move(file.path)));
  }

  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key, uint64_t) override {
    VPCFLOW_ASSIGN_OR_RETURN(OpenFile file, OpenRegular(key));
    return RandomAccessObjectPtr(
        std::make_unique<FileRandomAccess>(file.fd, file.size, std::move(file.path)));
  }

  Result<uint64_t> Size(std::string_view key) override {
    VPCFLOW_ASSIGN_OR_RETURN(std::string path, PathOf(key));
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return NoSuchKey(key);
      return ErrnoStatus("stat " + path, errno);
    }
    if (!S_ISREG(st.st_mode)) return NoSuchKey(key);
    return static_cast<uint64_t>(st.st_size);
  }

  std::string Describe() const override { return "dir:" + root_; }

 private:
  struct Entry {
    std::string name{};  // with a trailing '/' for a directory: sorts as its keys do
    bool is_dir = false;
    std::string problem{};  // not an object: why
    int64_t size = -1;      // known for a link to a file; else stat when listed
  };

  // The file to open for `key`: NotFound when the key is invalid or, unless links may leave
  // the root, when its path leads outside the root.
  Result<std::string> PathOf(std::string_view key) const {
    if (!IsValidKey(key)) return NoSuchKey(key);
    std::string path = root_ + "/" + std::string(key);
    if (options_.follow_links) return path;
    Result<std::string> resolved = Resolve(path);
    if (!resolved.ok()) {
      if (IsNotFound(resolved.status())) return NoSuchKey(key);
      return resolved.status();
    }
    return resolved;
  }

  // realpath(path), NotFound when it does not resolve or (unless links may leave the root)
  // when it lies outside the root.
  Result<std::string> Resolve(const std::string& path) const {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG) {
        return NotFoundError(path + ": " + ErrorText(err));
      }
      return ErrnoStatus("resolve " + path, err);
    }
    if (!options_.follow_links && !Inside(resolved)) {
      return NotFoundError(path + ": leaves the source directory");
    }
    return std::string(resolved);
  }

  // The folders that hold `folder` (a key prefix ending in '/'), from the root down: a walk
  // that starts there must recognise links back to them. False when one cannot be reached.
  bool FoldersAbove(std::string_view folder, std::vector<DirId>* ancestors) const {
    std::string path = root_;
    size_t begin = 0;
    for (;;) {
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) return false;
      ancestors->push_back(DirId{st.st_dev, st.st_ino});
      const size_t slash = folder.find('/', begin);
      if (slash == std::string_view::npos || slash + 1 == folder.size()) return true;
      path += "/" + std::string(folder.substr(begin, slash - begin));
      begin = slash + 1;
    }
  }

  bool Inside(std::string_view resolved) const {
    if (real_root_ == "/") return true;
    return resolved == real_root_ ||
           (resolved.starts_with(real_root_) && resolved[real_root_.size()] == '/');
  }

  struct OpenFile {
    int fd;
    uint64_t size;
    std::string path;
  };

  // Opens the regular file of `key` (the caller owns the descriptor).
  Result<OpenFile> OpenRegular(std::string_view key) const {
    VPCFLOW_ASSIGN_OR_RETURN(std::string path, PathOf(key));
    // O_NONBLOCK: a FIFO put in place since the listing must not hang the caller (no effect
    // on regular files).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return NoSuchKey(key);
      return ErrnoStatus("open " + path, errno);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return NoSuchKey(key);
    }
    return OpenFile{fd, static_cast<uint64_t>(st.st_size), std::move(path)};
  }

  Status NoSuchKey(std::string_view key) const {
    return NotFoundError(Describe() + ": no such key: '" + std::string(key) + "'");
  }

  static bool IsDirectory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  // Offers the keys under directory `path` (whose keys start with `key_prefix`) in S3 byte
  // order. Sorting a directory's entries with '/' appended to the subdirectories' names gives
  // the order of their full keys ("a-b/x" < "a.txt" < "a/x"), and a depth-first walk in that
  // order yields every key in global byte order: no sibling's key starts with "name/".
  // `ancestors` are the folders being walked, outermost first.
  Status Walk(const std::string& path, const std::string& key_prefix, ListPageBuilder& builder,
              bool* missing, std::vector<DirId>& ancestors) const {
    std::vector<Entry> entries;
    VPCFLOW_RETURN_IF_ERROR(ReadDir(path, key_prefix, builder, &entries, missing, ancestors));
    if (*missing) return OkStatus();
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    std::string key;
    for (const Entry& entry : entries) {
      if (builder.done()) break;
      key = key_prefix + entry.name;
      if (entry.is_dir) {
        if (!builder.MayContain(key)) continue;
        std::string child = path + "/" + entry.name;
        child.pop_back();
        bool gone = false;
        VPCFLOW_RETURN_IF_ERROR(Walk(child, key, builder, &gone, ancestors));
      } else if (builder.Offer(key)) {
        if (!entry.problem.empty()) {
          builder.AddObject(key, 0, entry.problem);
          continue;
        }
        int64_t size = entry.size;
        if (size < 0) {
          struct stat st;
          const std::string file = path + "/" + entry.name;
          if (::stat(file.c_str(), &st) != 0) {
            if (errno == ENOENT) continue;  // deleted since the directory was read
            return ErrnoStatus("stat " + file, errno);
          }
          size = st.st_size;
        }
        builder.AddObject(key, static_cast<uint64_t>(size));
      }
    }
    ancestors.pop_back();
    return OkStatus();
  }

  // The listable entries of one directory that may still enter the page, and the directory
  // pushed on `ancestors` (unless `*missing`). A directory that vanished or cannot be entered
  // for a loop or a too-long path is empty (`*missing` set).
  Status ReadDir(const std::string& path, const std::string& key_prefix,
                 const ListPageBuilder& builder, std::vector<Entry>* entries, bool* missing,
                 std::vector<DirId>& ancestors) const {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG) {
        *missing = true;
        return OkStatus();
      }
      return ErrnoStatus("list " + path, err);
    }
    const int fd = ::dirfd(dir);
    struct stat self;
    if (::fstat(fd, &self) != 0) {
      const int err = errno;
      ::closedir(dir);
      return ErrnoStatus("list " + path, err);
    }
    ancestors.push_back(DirId{self.st_dev, self.st_ino});
    std::string key;
    for (;;) {
      errno = 0;
      const dirent* e = ::readdir(dir);
      if (e == nullptr) break;
      const std::string_view name = e->d_name;
      if (!IsListableName(name)) continue;
      key.assign(key_prefix).append(name);
      if (!builder.MayContain(key)) continue;
      Entry entry{.name = std::string(name)};
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {  // file systems that do not fill d_type
        struct stat st;
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
        type = S_ISREG(st.st_mode)   ? DT_REG
               : S_ISDIR(st.st_mode) ? DT_DIR
               : S_ISLNK(st.st_mode) ? DT_LNK
                                     : DT_FIFO;
        if (type == DT_FIFO) entry.problem = Kind(st.st_mode);
      }
      if (type == DT_DIR) {
        entry.name += '/';
        entry.is_dir = true;
      } else if (type == DT_LNK) {
        if (!FollowLink(path + "/" + entry.name, ancestors, &entry)) continue;
      } else if (type != DT_REG && entry.problem.empty()) {
        entry.problem = type == DT_FIFO   ? "a FIFO"
                        : type == DT_SOCK ? "a socket"
                        : type == DT_CHR  ? "a character device"
                        : type == DT_BLK  ? "a block device"
                                          : "not a regular file";
      }
      entries->push_back(std::move(entry));
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) {
      ancestors.pop_back();
      return ErrnoStatus("list " + path, err);
    }
    return OkStatus();
  }

  // Classifies the symbolic link at `link` into `entry`: a file (with its size), a folder to
  // walk, or a problem. False when the link vanished since the directory was read.
  bool FollowLink(const std::string& link, const std::vector<DirId>& ancestors,
                  Entry* entry) const {
    char resolved[PATH_MAX];
    if (::realpath(link.c_str(), resolved) == nullptr) {
      const int err = errno;
      struct stat st;
      if (::lstat(link.c_str(), &st) != 0) return false;
      entry->problem = err == ENOENT ? "a dangling symbolic link"
                       : err == ELOOP
                           ? "a symbolic link loop"
                           : "a symbolic link that cannot be followed: " + ErrorText(err);
      return true;
    }
    if (!options_.follow_links && !Inside(resolved)) {
      entry->problem = "a symbolic link leaving the source directory (not followed)";
      return true;
    }
    struct stat st;
    if (::stat(resolved, &st) != 0) {
      entry->problem = "a dangling symbolic link";
      return true;
    }
    if (S_ISREG(st.st_mode)) {
      entry->size = st.st_size;
    } else if (S_ISDIR(st.st_mode)) {
      if (std::find(ancestors.begin(), ancestors.end(), DirId{st.st_dev, st.st_ino}) !=
          ancestors.end()) {
        entry->problem = "a symbolic link loop (to a folder that contains it)";
      } else {
        entry->name += '/';
        entry->is_dir = true;
      }
    } else {
      entry->problem = "a symbolic link to " + Kind(st.st_mode);
    }
    return true;
  }

  const std::string root_;
  const std::string real_root_;  // root_ with every link resolved
  const LocalDirOptions options_;
};

}  // namespace

Result<ObjectSourcePtr> NewLocalDirSource(std::string root, LocalDirOptions options) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st;
  char resolved[PATH_MAX];
  if (root.empty() || ::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      ::realpath(root.c_str(), resolved) == nullptr) {
    return NotFoundError("flow-log directory not found: '" + root + "' is not a directory");
  }
  return ObjectSourcePtr(std::make_unique<LocalDirSource>(std::move(root), resolved, options));
}

}  // namespace vpcflow
