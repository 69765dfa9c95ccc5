#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errno_status.hpp"
#include "common/list_page_builder.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {

namespace {

// Reads smaller than this are served from an internal buffer so that the file is still read
// in large chunks; larger reads go straight into the caller's buffer.
constexpr size_t kDirectReadBytes = 64 * 1024;
constexpr size_t kReadBufferBytes = 256 * 1024;

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

class LocalDirSource final : public ObjectSource {
 public:
  explicit LocalDirSource(std::string root) : root_(std::move(root)) {}

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
    if (!folder.empty()) path += "/" + std::string(folder.substr(0, folder.size() - 1));
    bool missing = false;
    RETURN_IF_ERROR(Walk(path, std::string(folder), builder, &missing));
    // A missing folder is an empty listing; a missing root is an error.
    if (missing && !IsDirectory(root_)) {
      return NotFoundError(Describe() + ": the root is not a directory");
    }
    return std::move(builder).Finish();
  }

  Result<ObjectReaderPtr> Open(std::string_view key) override {
    ASSIGN_OR_RETURN(OpenFile file, OpenRegular(key));
    ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return ObjectReaderPtr(std::make_unique<FileReader>(file.fd, std::move(file.path)));
  }

  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key, uint64_t) override {
    ASSIGN_OR_RETURN(OpenFile file, OpenRegular(key));
    return RandomAccessObjectPtr(
        std::make_unique<FileRandomAccess>(file.fd, file.size, std::move(file.path)));
  }

  Result<uint64_t> Size(std::string_view key) override {
    if (!IsValidKey(key)) return NoSuchKey(key);
    const std::string path = PathOf(key);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return NoSuchKey(key);
      return ErrnoStatus("stat " + path, errno);
    }
    if (!S_ISREG(st.st_mode)) return NoSuchKey(key);
    return static_cast<uint64_t>(st.st_size);
  }

  std::string Describe() const override { return "dir:" + root_; }

 private:
  struct Entry {
    std::string name;  // with a trailing '/' for a directory: sorts as its keys do
    bool is_dir = false;
  };

  std::string PathOf(std::string_view key) const { return root_ + "/" + std::string(key); }

  struct OpenFile {
    int fd;
    uint64_t size;
    std::string path;
  };

  // Opens the regular file of `key` (the caller owns the descriptor).
  Result<OpenFile> OpenRegular(std::string_view key) const {
    if (!IsValidKey(key)) return NoSuchKey(key);
    std::string path = PathOf(key);
    // O_NONBLOCK: a FIFO in the tree must not hang the caller (no effect on regular files).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) return NoSuchKey(key);
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
  Status Walk(const std::string& path, const std::string& key_prefix, ListPageBuilder& builder,
              bool* missing) const {
    std::vector<Entry> entries;
    RETURN_IF_ERROR(ReadDir(path, key_prefix, builder, &entries, missing));
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
        RETURN_IF_ERROR(Walk(child, key, builder, &gone));
      } else if (builder.Offer(key)) {
        struct stat st;
        const std::string file = path + "/" + entry.name;
        if (::stat(file.c_str(), &st) != 0) {
          if (errno == ENOENT) continue;  // deleted since the directory was read
          return ErrnoStatus("stat " + file, errno);
        }
        builder.AddObject(key, static_cast<uint64_t>(st.st_size));
      }
    }
    return OkStatus();
  }

  // The listable entries of one directory that may still enter the page. A directory that
  // vanished or cannot be entered for a loop or a too-long path is empty (`*missing` set).
  static Status ReadDir(const std::string& path, const std::string& key_prefix,
                        const ListPageBuilder& builder, std::vector<Entry>* entries,
                        bool* missing) {
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
    std::string key;
    for (;;) {
      errno = 0;
      const dirent* e = ::readdir(dir);
      if (e == nullptr) break;
      const std::string_view name = e->d_name;
      if (!IsListableName(name)) continue;
      key.assign(key_prefix).append(name);
      if (!builder.MayContain(key)) continue;
      bool is_dir = e->d_type == DT_DIR;
      bool is_file = e->d_type == DT_REG;
      if (e->d_type == DT_LNK || e->d_type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(fd, e->d_name, &st, 0) != 0) continue;  // dangling link, or gone
        is_dir = S_ISDIR(st.st_mode);
        is_file = S_ISREG(st.st_mode);
      }
      if (is_dir) {
        entries->push_back(Entry{.name = std::string(name) + "/", .is_dir = true});
      } else if (is_file) {
        entries->push_back(Entry{.name = std::string(name), .is_dir = false});
      }
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return ErrnoStatus("list " + path, err);
    return OkStatus();
  }

  std::string root_;
};

}  // namespace

Result<ObjectSourcePtr> NewLocalDirSource(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  struct stat st;
  if (root.empty() || ::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return NotFoundError("flow-log directory not found: '" + root + "' is not a directory");
  }
  return ObjectSourcePtr(std::make_unique<LocalDirSource>(std::move(root)));
}

}  // namespace vpcflow
