#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "modules/posix_file.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

Status ValidateDigestId(std::string_view id) {
  bool ok = id.size() == 36;
  for (size_t i = 0; ok && i < id.size(); ++i) {
    char c = id[i];
    ok = (i == 8 || i == 13 || i == 18 || i == 23)
             ? c == '-'
             : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (ok) return OkStatus();
  return InvalidArgumentError("not a digest id (a lower-case UUID): \"" +
                              std::string(id.substr(0, 64)) + (id.size() > 64 ? "...\"" : "\""));
}

Status ValidatePartialName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 200 && name[0] != '.';
  for (size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '_' || c == '-';
  }
  if (ok) return OkStatus();
  return InvalidArgumentError("not a partial name ([A-Za-z0-9._-], at most 200): \"" +
                              std::string(name.substr(0, 64)) +
                              (name.size() > 64 ? "...\"" : "\""));
}

// Partials are an optional capability of a Storage.
Result<PartialUploadPtr> Storage::BeginPartial(std::string_view, std::string_view) {
  return UnimplementedError(Describe() + " does not store partials");
}
Result<ObjectReaderPtr> Storage::OpenPartial(std::string_view, std::string_view) {
  return UnimplementedError(Describe() + " does not store partials");
}
Result<std::vector<std::string>> Storage::ListPartials(std::string_view) {
  return UnimplementedError(Describe() + " does not store partials");
}
Status Storage::DeletePartials(std::string_view) {
  return UnimplementedError(Describe() + " does not store partials");
}
Status Storage::DeletePartial(std::string_view, std::string_view) {
  return UnimplementedError(Describe() + " does not store partials");
}

namespace {

constexpr size_t kWriteBufferBytes = size_t{256} * 1024;

class FileReader final : public ObjectReader {
 public:
  FileReader(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<size_t> Read(std::span<char> buffer) override {
    for (;;) {
      ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus("read " + path_, errno);
    }
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

// Buffers appends so that small writes from an encoder become large write() calls.
class FileSink final : public ByteSink {
 public:
  FileSink(int fd, const std::string& path) : fd_(fd), path_(path) {
    buffer_.reserve(kWriteBufferBytes);
  }

  Status Append(std::string_view bytes) override {
    if (!status_.ok()) return status_;
    if (closed_) return status_ = FailedPreconditionError("append after close: " + path_);
    bytes_ += bytes.size();
    if (buffer_.size() + bytes.size() > kWriteBufferBytes) {
      VPCFLOW_RETURN_IF_ERROR(Flush());
      if (bytes.size() >= kWriteBufferBytes) return status_ = WriteFully(fd_, bytes, path_);
    }
    buffer_.append(bytes);
    return OkStatus();
  }

  Status Close() override {
    if (!closed_ && status_.ok()) status_ = Flush();
    closed_ = true;
    return status_;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  Status Flush() {
    status_ = WriteFully(fd_, buffer_, path_);
    buffer_.clear();
    return status_;
  }

  int fd_;
  const std::string& path_;
  std::string buffer_;
  Status status_;
  uint64_t bytes_ = 0;
  bool closed_ = false;
};

class FileUpload final : public StorageUpload {
 public:
  struct Paths {
    std::string digest, manifest, rows;           // where they are published
    std::string digest_temp, rows_temp, dir, id;  // written first
  };

  FileUpload(Paths paths, UniqueFd fd, UniqueFd rows_fd)
      : paths_(std::move(paths)),
        temp_path_(paths_.digest_temp),
        fd_(std::move(fd)),
        rows_fd_(std::move(rows_fd)),
        sink_(fd_.get(), temp_path_),
        rows_sink_(rows_fd_.get(), paths_.rows_temp) {}

  ~FileUpload() override {
    if (!temp_path_.empty()) {
      fd_.Reset();
      rows_fd_.Reset();
      ::unlink(temp_path_.c_str());
      ::unlink(paths_.rows_temp.c_str());
      (void)RemoveStaleTempFiles(paths_.dir);
    }
  }

  ByteSink& body() override { return sink_; }
  ByteSink* rows_body() override { return &rows_sink_; }

  Status Commit(std::string_view manifest_json) override {
    if (temp_path_.empty()) {
      return FailedPreconditionError("upload of " + paths_.id + " already ended");
    }
    Status status = Publish(manifest_json);
    if (!status.ok()) {
      fd_.Reset();
      ::unlink(temp_path_.c_str());
    }
    rows_fd_.Reset();
    ::unlink(paths_.rows_temp.c_str());  // when it was not published
    temp_path_.clear();
    // After each job: what killed writers left behind (their temporaries are never renamed).
    (void)RemoveStaleTempFiles(paths_.dir);
    return status;
  }

 private:
  Status Publish(std::string_view manifest_json) {
    VPCFLOW_RETURN_IF_ERROR(sink_.Close());
    if (::close(fd_.Release()) != 0) return ErrnoStatus("close " + temp_path_, errno);
    VPCFLOW_RETURN_IF_ERROR(rows_sink_.Close());
    if (::close(rows_fd_.Release()) != 0) return ErrnoStatus("close " + paths_.rows_temp, errno);
    VPCFLOW_ASSIGN_OR_RETURN(
        std::string manifest_temp,
        WriteTempFile(paths_.dir, paths_.id + ".manifest.json", manifest_json));
    // The old sidecar goes before the digest changes, the new one comes after it: a sidecar
    // seen is always the one of the digest beside it.
    if (::unlink(paths_.rows.c_str()) != 0 && errno != ENOENT) {
      Status status = ErrnoStatus("remove " + paths_.rows, errno);
      ::unlink(manifest_temp.c_str());
      return status;
    }
    // Manifest first: a reader that finds the digest also finds its manifest.
    if (::rename(manifest_temp.c_str(), paths_.manifest.c_str()) != 0) {
      Status status = ErrnoStatus("rename to " + paths_.manifest, errno);
      ::unlink(manifest_temp.c_str());
      return status;
    }
    if (::rename(temp_path_.c_str(), paths_.digest.c_str()) != 0) {
      Status status = ErrnoStatus("rename to " + paths_.digest, errno);
      ::unlink(paths_.manifest.c_str());
      return status;
    }
    if (rows_sink_.bytes() > 0 && ::rename(paths_.rows_temp.c_str(), paths_.rows.c_str()) != 0) {
      Status status = ErrnoStatus("rename to " + paths_.rows, errno);
      ::unlink(paths_.digest.c_str());
      ::unlink(paths_.manifest.c_str());
      return status;
    }
    return OkStatus();
  }

  const Paths paths_;
  std::string temp_path_;  // empty once the upload ended
  UniqueFd fd_;
  UniqueFd rows_fd_;
  FileSink sink_;
  FileSink rows_sink_;
};

Result<StoredDigest> OpenStoredFile(std::string path, std::string_view what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open " + std::string(what) + " " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  StoredDigest digest;
  digest.size = static_cast<uint64_t>(st.st_size);
  digest.reader = std::make_unique<FileReader>(std::move(fd), std::move(path));
  return digest;
}

// A partial written to a temporary name in its folder, renamed over its name at Commit.
class FilePartialUpload final : public PartialUpload {
 public:
  FilePartialUpload(std::string path, std::string dir, std::string temp_path, UniqueFd fd)
      : path_(std::move(path)),
        dir_(std::move(dir)),
        temp_path_(std::move(temp_path)),
        fd_(std::move(fd)),
        sink_(fd_.get(), temp_path_) {}

  ~FilePartialUpload() override {
    if (!temp_path_.empty()) {
      fd_.Reset();
      ::unlink(temp_path_.c_str());
    }
  }

  ByteSink& body() override { return sink_; }

  Status Commit() override {
    if (temp_path_.empty()) return FailedPreconditionError("upload of " + path_ + " already ended");
    Status status = sink_.Close();
    if (status.ok() && ::close(fd_.Release()) != 0)
      status = ErrnoStatus("close " + temp_path_, errno);
    if (status.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      status = ErrnoStatus("rename to " + path_, errno);
    }
    if (!status.ok()) {
      fd_.Reset();
      ::unlink(temp_path_.c_str());
    }
    temp_path_.clear();
    (void)RemoveStaleTempFiles(dir_);
    return status;
  }

 private:
  std::string path_;
  std::string dir_;
  std::string temp_path_;  // empty once the upload ended
  UniqueFd fd_;
  FileSink sink_;
};

class FileStorage final : public Storage {
 public:
  explicit FileStorage(std::string dir) : dir_(std::move(dir)) {}

  Result<StoredDigest> Get(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    return OpenStoredFile(DigestPath(id), "digest");
  }

  Result<StoredDigest> GetRows(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    return OpenStoredFile(Path(id, ".rows.gz"), "rows sidecar");
  }

  Result<std::string> GetManifest(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    return ReadWholeFile(ManifestPath(id));
  }

  Result<bool> Exists(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    std::string path = DigestPath(id);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat " + path, errno);
  }

  Result<StorageUploadPtr> Begin(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    FileUpload::Paths paths{.digest = DigestPath(id),
                            .manifest = ManifestPath(id),
                            .rows = Path(id, ".rows.gz"),
                            .digest_temp = UniqueTempPath(dir_, std::string(id) + ".log.gz"),
                            .rows_temp = UniqueTempPath(dir_, std::string(id) + ".rows.gz"),
                            .dir = dir_,
                            .id = std::string(id)};
    UniqueFd fd(::open(paths.digest_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus("create " + paths.digest_temp, errno);
    UniqueFd rows_fd(
        ::open(paths.rows_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!rows_fd.valid()) {
      Status status = ErrnoStatus("create " + paths.rows_temp, errno);
      ::unlink(paths.digest_temp.c_str());
      return status;
    }
    return StorageUploadPtr(
        std::make_unique<FileUpload>(std::move(paths), std::move(fd), std::move(rows_fd)));
  }

  Status Ready() override { return CheckWritable(dir_); }

  std::string Describe() const override { return "dir:" + dir_; }

  Result<PartialUploadPtr> BeginPartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    const std::string dir = PartialsDir(id);
    VPCFLOW_RETURN_IF_ERROR(MakeDirectories(dir));
    std::string temp = UniqueTempPath(dir, std::string(name));
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus("create " + temp, errno);
    return PartialUploadPtr(std::make_unique<FilePartialUpload>(dir + "/" + std::string(name), dir,
                                                                std::move(temp), std::move(fd)));
  }

  Result<ObjectReaderPtr> OpenPartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    std::string path = PartialsDir(id) + "/" + std::string(name);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("open partial " + path, errno);
    return ObjectReaderPtr(std::make_unique<FileReader>(std::move(fd), std::move(path)));
  }

  Result<std::vector<std::string>> ListPartials(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    std::vector<std::string> names;
    const std::string dir = PartialsDir(id);
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return names;
      return ErrnoStatus("list " + dir, errno);
    }
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);  // temporaries are hidden
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status DeletePartials(std::string_view id) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    const std::string dir = PartialsDir(id);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return ErrnoStatus("delete " + dir, ec.value());
    return OkStatus();
  }

  Status DeletePartial(std::string_view id, std::string_view name) override {
    VPCFLOW_RETURN_IF_ERROR(ValidateDigestId(id));
    VPCFLOW_RETURN_IF_ERROR(ValidatePartialName(name));
    const std::string path = PartialsDir(id) + "/" + std::string(name);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("delete " + path, errno);
    return OkStatus();
  }

 private:
  std::string PartialsDir(std::string_view id) const {
    return dir_ + "/partials/" + std::string(id);
  }
  std::string Path(std::string_view id, std::string_view suffix) const {
    return dir_ + "/" + std::string(id) + std::string(suffix);
  }
  std::string DigestPath(std::string_view id) const { return Path(id, ".log.gz"); }
  std::string ManifestPath(std::string_view id) const { return Path(id, ".manifest.json"); }

  const std::string dir_;
};

}  // namespace

Result<StoragePtr> NewFileStorage(std::string dir) {
  if (dir.empty()) return InvalidArgumentError("digest storage directory is empty");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  VPCFLOW_RETURN_IF_ERROR(MakeDirectories(dir).WithContext("digest storage"));
  VPCFLOW_RETURN_IF_ERROR(RemoveStaleTempFiles(dir).status().WithContext("digest storage"));
  return StoragePtr(std::make_unique<FileStorage>(std::move(dir)));
}

}  // namespace vpcflow
