#include "common/process_identity.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace vpcflow {
namespace {

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

// 32-bit FNV-1a as 8 hex digits: a stable short name for a host or a boot, not a secret.
std::string Hash8(std::string_view text) {
  uint32_t h = 2166136261u;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

// The host as seen from a process: its name and its pid namespace.
std::string HostHash(const ProcessIdentity& p) { return Hash8(p.host + "\n" + p.pid_namespace); }

// The liveness of a process of this host and boot, from its pid and start time.
Liveness LocalLiveness(int64_t pid, int64_t start_ticks) {
  if (pid <= 0 || pid > INT_MAX) return Liveness::kUnknown;
  if (std::optional<int64_t> start = ProcessStartTicks(pid)) {
    if (start_ticks == 0) return Liveness::kAlive;  // the writer did not know its start time
    return *start == start_ticks ? Liveness::kAlive : Liveness::kGone;
  }
  // No /proc entry: ask the kernel directly (ESRCH: no such process).
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return Liveness::kGone;
  return Liveness::kUnknown;
}

}  // namespace

std::optional<int64_t> ProcessStartTicks(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const std::string stat = text.str();
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so fields count from the last ')'.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) {
      int64_t ticks = 0;
      if (ParseInt(field, &ticks)) return ticks;
    }
  }
  return std::nullopt;
}

const ProcessIdentity& ThisProcess() {
  static const ProcessIdentity self = [] {
    ProcessIdentity p;
    char host[256] = {0};
    if (::gethostname(host, sizeof(host) - 1) == 0) p.host = host;
    p.boot_id = ReadFirstLine("/proc/sys/kernel/random/boot_id");
    char ns[128] = {0};
    const ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
    if (n > 0) p.pid_namespace.assign(ns, static_cast<size_t>(n));
    p.pid = ::getpid();
    p.start_ticks = ProcessStartTicks(p.pid).value_or(0);
    return p;
  }();
  return self;
}

Liveness LivenessOf(const ProcessIdentity& process) {
  const ProcessIdentity& self = ThisProcess();
  if (process.host.empty() || process.host != self.host ||
      process.pid_namespace != self.pid_namespace) {
    return Liveness::kUnknown;
  }
  if (!process.boot_id.empty() && !self.boot_id.empty() && process.boot_id != self.boot_id) {
    return Liveness::kGone;  // the host rebooted since
  }
  return LocalLiveness(process.pid, process.start_ticks);
}

std::string ProcessTag(const ProcessIdentity& process) {
  return HostHash(process) + Hash8(process.boot_id) + "_" + std::to_string(process.pid) + "_" +
         std::to_string(process.start_ticks);
}

Liveness LivenessOfTag(std::string_view tag) {
  const size_t first = tag.find('_');
  const size_t second = first == std::string_view::npos ? first : tag.find('_', first + 1);
  int64_t pid = 0;
  int64_t start = 0;
  if (first != 16 || second == std::string_view::npos ||
      !ParseInt(tag.substr(first + 1, second - first - 1), &pid) ||
      !ParseInt(tag.substr(second + 1), &start)) {
    return Liveness::kUnknown;
  }
  const ProcessIdentity& self = ThisProcess();
  if (tag.substr(0, 8) != HostHash(self)) return Liveness::kUnknown;
  if (tag.substr(8, 8) != Hash8(self.boot_id)) return Liveness::kGone;
  return LocalLiveness(pid, start);
}

}  // namespace vpcflow
