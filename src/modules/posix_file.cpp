#include "modules/posix_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>

#include "common/process_identity.hpp"

namespace vpcflow {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status MakeDirectories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus("create directory " + dir, ec.value());
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat " + dir, errno);
  if (!S_ISDIR(st.st_mode)) return ErrnoStatus("directory " + dir, ENOTDIR);
  return OkStatus();
}

Status WriteFully(int fd, std::string_view bytes, std::string_view path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(std::string("write ") + std::string(path), errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open " + path, errno);
  std::string out;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path, errno);
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::string UniqueTempPath(const std::string& dir, std::string_view stem) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  std::string path = dir;
  path += "/.";
  path += stem;
  path += '.';
  path += std::to_string(counter.fetch_add(1));
  path += '-';
  path += std::to_string(random() & 0xffffffffu);
  path += '.';
  path += ProcessTag(ThisProcess());
  path += ".tmp";
  return path;
}

Result<int> RemoveStaleTempFiles(const std::string& dir) {
  constexpr std::string_view kSuffix = ".tmp";
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
  if (listing == nullptr) return ErrnoStatus("list " + dir, errno);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  int removed = 0;
  while (const dirent* entry = ::readdir(listing.get())) {
    const std::string_view name = entry->d_name;
    if (!name.starts_with('.') || !name.ends_with(kSuffix) || name.size() <= kSuffix.size() + 1) {
      continue;
    }
    const std::string_view base = name.substr(0, name.size() - kSuffix.size());
    const std::string_view tag = base.substr(base.rfind('.') + 1);
    const std::string path = dir + "/" + std::string(name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    bool stale = false;
    switch (LivenessOfTag(tag)) {
      case Liveness::kAlive:
        break;
      case Liveness::kGone:
        stale = true;
        break;
      case Liveness::kUnknown:
        stale = now_ms - (static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 +
                          st.st_mtim.tv_nsec / 1000000) >=
                kForeignTempMaxAgeMs;
        break;
    }
    if (stale && ::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

Result<std::string> WriteTempFile(const std::string& dir, std::string_view stem,
                                  std::string_view bytes, int64_t mtime_unix_ms) {
  std::string path = UniqueTempPath(dir, stem);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus("create " + path, errno);
  Status status = WriteFully(fd.get(), bytes, path);
  if (status.ok() && mtime_unix_ms >= 0) {
    struct timespec times[2];
    times[0].tv_sec = mtime_unix_ms / 1000;
    times[0].tv_nsec = (mtime_unix_ms % 1000) * 1000000;
    times[1] = times[0];
    if (::futimens(fd.get(), times) != 0) status = ErrnoStatus("set time of " + path, errno);
  }
  if (status.ok() && ::close(fd.Release()) != 0) status = ErrnoStatus("close " + path, errno);
  if (!status.ok()) {
    ::unlink(path.c_str());
    return status;
  }
  return path;
}

Result<int64_t> FileMtimeMillis(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

Status CheckWritable(const std::string& dir) {
  VPCFLOW_ASSIGN_OR_RETURN(std::string probe, WriteTempFile(dir, "ready", "ok"));
  return RemoveIfExists(probe);
}

Status RemoveIfExists(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove " + path, errno);
  }
  return OkStatus();
}

}  // namespace vpcflow
