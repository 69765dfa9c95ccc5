#pragma once
/// Error reporting shared by the commands (commands.hpp): query errors as CLI options.

#include <string>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// A query parameter's message ("group_by: ...") naming the CLI option ("--group-by: ...").
std::string OptionMessage(const Status& st);

/// Exit code for a query that failed: 2 when the request itself cannot be answered.
int QueryFailure(const Status& st);

}  // namespace vpcflow
