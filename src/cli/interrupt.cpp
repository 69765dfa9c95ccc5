#include "cli/interrupt.hpp"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace vpcflow {
namespace {

// The handler reads the path only while `g_armed` is set; the path is written while it is not.
char g_path[PATH_MAX] = {0};
std::atomic<bool> g_armed{false};
static_assert(std::atomic<bool>::is_always_lock_free, "read from a signal handler");

extern "C" void OnInterrupt(int signo) {
  if (g_armed.load(std::memory_order_acquire)) ::unlink(g_path);
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

}  // namespace vpcflow
