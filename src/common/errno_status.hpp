#pragma once
/// Converts an errno value from a failed system call into a Status naming what failed.
/// Pure, thread-safe.

#include <string>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// "<what>: <strerror>" with the code that fits `err`: NotFound (ENOENT, ENOTDIR),
/// PermissionDenied (EACCES, EPERM, EROFS), Unavailable otherwise (disk full, I/O error: retrying
/// later may help).
Status ErrnoStatus(std::string_view what, int err);

}  // namespace vpcflow
