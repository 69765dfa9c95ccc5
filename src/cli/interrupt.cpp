#include "cli/interrupt.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace vpcflow {
namespace {

// The handler reads the path only while `g_armed` is set; the path is written while it is not.
char g_path[PATH_MAX] = {0};
std::atomic<bool> g_armed{false};
static_assert(std::atomic<bool>::is_always_lock_free, "read from a signal handler");

char g_spill_dir[PATH_MAX] = {0};
std::atomic<bool> g_spill_armed{false};

// The kernel's directory entry (getdents64), which opendir() would read through malloc.
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Removes the files of `dir` and then `dir`, with system calls only.
void RemoveDirectoryInHandler(const char* dir) {
  const int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    alignas(8) char buf[4096];
    for (;;) {
      const long n = ::syscall(SYS_getdents64, fd, buf, sizeof(buf));
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        const auto* e = reinterpret_cast<const LinuxDirent64*>(buf + off);
        const bool dot = e->d_name[0] == '.' &&
                         (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'));
        if (!dot) ::unlinkat(fd, e->d_name, 0);
        off += e->d_reclen;
      }
    }
    ::close(fd);
  }
  ::rmdir(dir);
}

extern "C" void OnInterrupt(int signo) {
  if (g_armed.load(std::memory_order_acquire)) ::unlink(g_path);
  if (g_spill_armed.load(std::memory_order_acquire)) RemoveDirectoryInHandler(g_spill_dir);
  _exit(signo == SIGINT ? kExitSigint : kExitSigterm);
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  // Either signal blocks the other while the handler runs: one exit status, one unlink.
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

Status RegisterTemporaryFile(std::string_view path) {
  if (path.size() >= sizeof(g_path)) {
    return InvalidArgumentError("the path of the temporary file is too long");
  }
  g_armed.store(false, std::memory_order_release);
  std::memcpy(g_path, path.data(), path.size());
  g_path[path.size()] = '\0';
  g_armed.store(true, std::memory_order_release);
  return OkStatus();
}

void ClearTemporaryFile() { g_armed.store(false, std::memory_order_release); }

Status RegisterSpillDirectory(std::string_view path) {
  if (path.size() >= sizeof(g_spill_dir)) {
    return InvalidArgumentError("the path of the spill directory is too long");
  }
  g_spill_armed.store(false, std::memory_order_release);
  std::memcpy(g_spill_dir, path.data(), path.size());
  g_spill_dir[path.size()] = '\0';
  g_spill_armed.store(true, std::memory_order_release);
  return OkStatus();
}

}  // namespace vpcflow
