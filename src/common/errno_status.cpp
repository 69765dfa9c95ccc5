#include "common/errno_status.hpp"

#include <cerrno>
#include <system_error>

namespace vpcflow {

Status ErrnoStatus(std::string_view what, int err) {
  std::string message(what);
  message += ": ";
  message += std::error_code(err, std::generic_category()).message();  // thread-safe strerror
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(std::move(message));
    default:
      return UnavailableError(std::move(message));
  }
}

}  // namespace vpcflow
