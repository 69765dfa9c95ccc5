#pragma once
/// Who a process is, told well enough that another process can later say whether it is still
/// running: the host (name, boot id and pid namespace: containers on one host may share a name
/// and a boot id, but each has its own pids), the pid, and the process's start time (a pid alone
/// is reused; pid + start time is not, until the host reboots). Used to name the holders of markers
/// and the writers of temporary files, so a restarted service knows what its dead predecessor
/// left. Linux: reads /proc. Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vpcflow {

struct ProcessIdentity {
  std::string host{};           ///< gethostname()
  std::string boot_id{};        ///< /proc/sys/kernel/random/boot_id; "" when unknown
  std::string pid_namespace{};  ///< the link /proc/self/ns/pid ("pid:[4026531836]"); "" = unknown
  int64_t pid = 0;
  int64_t start_ticks = 0;  ///< /proc/<pid>/stat field 22 (clock ticks after boot); 0 = unknown
};

/// This process, read once (the first call).
const ProcessIdentity& ThisProcess();

/// The start time (field 22 of /proc/<pid>/stat) of process `pid`; nullopt when there is no such
/// process or /proc cannot tell.
std::optional<int64_t> ProcessStartTicks(int64_t pid);

enum class Liveness {
  kAlive,    ///< the process runs on this host
  kGone,     ///< it ran on this host and no longer runs (or the host rebooted since)
  kUnknown,  ///< another host, or not enough known to tell
};

/// Whether `process` still runs, as far as this host can tell: kUnknown unless it has this
/// host's name and pid namespace.
Liveness LivenessOf(const ProcessIdentity& process);

/// A short name for `process` fit for a file name: "<host and pid namespace hash><boot
/// hash>_<pid>_<start ticks>"
/// (16 hex digits, then decimals; no '.', '/' or '-').
std::string ProcessTag(const ProcessIdentity& process);

/// LivenessOf the process a ProcessTag names (the host is compared by its hash); kUnknown for a
/// text that is not a tag.
Liveness LivenessOfTag(std::string_view tag);

}  // namespace vpcflow
