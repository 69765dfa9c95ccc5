#include "cli/report.hpp"

#include <cstdio>
#include <string_view>

#include "cli/commands.hpp"

namespace vpcflow {

int Fail(int code, std::string_view message) {
  std::fprintf(stderr, "vpcflow-digest: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

std::string OptionMessage(const Status& st) {
  std::string message = "--" + st.message();
  for (size_t i = 2; i < message.size() && message[i] != ':'; ++i) {
    if (message[i] == '_') message[i] = '-';
  }
  return message;
}

// Exit code for a query that failed: 2 when the request itself cannot be answered.
int QueryFailure(const Status& st) {
  const bool usage =
      st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kFailedPrecondition;
  return Fail(usage ? kExitUsage : kExitFailure, st.message());
}

}  // namespace vpcflow
