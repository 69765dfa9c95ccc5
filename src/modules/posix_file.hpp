#pragma once
/// Small POSIX file helpers shared by the file-backed modules (storage, marker). Errors come from
/// ErrnoStatus (common/errno_status.hpp). Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/errno_status.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

/// Creates `dir` and its parents when missing. Returns the error naming `dir`, also when it
/// exists but is not a directory.
Status MakeDirectories(const std::string& dir);

/// Writes all of `bytes` (retrying short writes and EINTR).
Status WriteFully(int fd, std::string_view bytes, std::string_view path);

/// The whole file. NotFound when it does not exist.
Result<std::string> ReadWholeFile(const std::string& path);

/// A hidden, unique file name in `dir`: "<dir>/.<stem>.<counter>-<random>.<tag>.tmp", where
/// <tag> is ProcessTag(ThisProcess()) (common/process_identity.hpp), so that anyone can tell
/// whether the writer still runs.
std::string UniqueTempPath(const std::string& dir, std::string_view stem);

/// Temporary files of writers this host cannot judge (another host sharing the directory, or
/// names of an older version) are removed once unmodified for this long.
inline constexpr int64_t kForeignTempMaxAgeMs = int64_t{3600} * 1000;

/// Removes the temporary files (UniqueTempPath names: hidden, ending ".tmp") in `dir` that no
/// live process is writing: those whose writer was a process of this host that is gone, and
/// those of writers it cannot judge that are older than kForeignTempMaxAgeMs. Files of live
/// writers (this process too) are never touched. Returns how many were removed; the error when
/// `dir` cannot be read (single files that vanish or cannot be removed are skipped).
Result<int> RemoveStaleTempFiles(const std::string& dir);

/// Writes `bytes` to a new UniqueTempPath file (mode 0644) and returns its path. When
/// `mtime_unix_ms` >= 0 the file's modification time is set to it. Nothing is left behind on
/// error.
Result<std::string> WriteTempFile(const std::string& dir, std::string_view stem,
                                  std::string_view bytes, int64_t mtime_unix_ms = -1);

/// The file's modification time in Unix milliseconds. NotFound when it does not exist.
Result<int64_t> FileMtimeMillis(const std::string& path);

/// Creates and removes a temporary file in `dir` (a readiness probe): OK when `dir` is writable.
Status CheckWritable(const std::string& dir);

/// unlink(); OK when the file did not exist.
Status RemoveIfExists(const std::string& path);

}  // namespace vpcflow
